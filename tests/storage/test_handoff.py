"""The handoff package's choice of customer (``storage.handoff``), on hand-made participants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.handoff import customer_candidates, listed_namespaces
from storage.models import Participant

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _joined(participant_id: str, minutes: int, *, left: bool = False, role: str = "customer") -> Participant:
    return Participant(
        room_id="room_1",
        participant_id=participant_id,
        kind="identity",
        role=role,
        joined_at=_T0 + timedelta(minutes=minutes),
        left_at=_T0 + timedelta(hours=1) if left else None,
    )


def test_customer_candidates_put_present_customers_first_newest_join_first() -> None:
    participants = [
        _joined("a", 0),
        _joined("b", 1, left=True),
        _joined("c", 2),
        _joined("x", 3, role="agent"),
    ]

    assert customer_candidates(participants, "s") == ["c", "a", "b", "s"]


def test_customer_candidates_break_equal_join_times_by_join_order() -> None:
    participants = [_joined("a", 0), _joined("b", 0), _joined("c", 0, left=True), _joined("d", 0, left=True)]

    assert customer_candidates(participants, None) == ["b", "a", "d", "c"]


def test_customer_candidates_name_each_identity_once() -> None:
    assert customer_candidates([_joined("a", 0)], "a") == ["a"]


def test_listed_namespaces_keep_only_strings_sorted_once() -> None:
    assert listed_namespaces({"namespaces": ["b", "a", 3, "b"]}) == ["a", "b"]
    assert listed_namespaces({"namespaces": "a"}) == []
    assert listed_namespaces({}) == []
