"""storage.indexing: the head and window of an event's indexed text, and which queries name a sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.indexing import (
    CONTEXT_AFTER,
    CONTEXT_BEFORE,
    CONTEXT_MAX_GAP,
    EventText,
    event_document,
    event_head,
    names_sender,
    sender_label,
    window_documents,
)
from tests.storage.contract.support import at

START = at("2023-05-08T13:56")


def text(index: int, *, level: int = 1, minutes: int = 0) -> EventText:
    return EventText(index, START + timedelta(minutes=minutes), level, f"head {index}")


def test_the_head_carries_the_date_the_sender_and_the_content() -> None:
    assert event_head("I went hiking", sender="Caroline", occurred_at=START) == (
        "[8 May 2023] Caroline: I went hiking"
    )
    assert event_head("system restarted", sender=None, occurred_at=at("2024-12-31T23:59")) == (
        "[31 December 2024] system restarted"
    )


def test_the_sender_label_prefers_the_display_name_then_the_address_then_the_agent() -> None:
    assert sender_label("Caroline B.", "caroline", "triage") == "Caroline B."
    assert sender_label(None, "+15551234", "triage") == "+15551234"
    assert sender_label(" ", None, "triage") == "triage"
    assert sender_label(None, None, None) is None


@pytest.mark.parametrize(
    ("query", "label", "named"),
    [
        ("What did Caroline paint?", "Caroline", True),
        ("what did jon say about the trip", "Jon Smith", True),
        ("What did Melanie paint?", "Caroline", False),
        ("Who was at the party?", "Al", False),  # too short to be a reliable name match
        ("Is the billing done?", "billing", True),
        ("anything", None, False),
        ("What about them?", "them", False),  # a stopword names nobody
    ],
)
def test_a_query_names_a_sender_by_a_word_of_the_label(query: str, label: str | None, named: bool) -> None:
    assert names_sender(query, label) is named


def test_the_document_is_the_head_then_the_window_in_timeline_order() -> None:
    events = [text(i) for i in range(1, 8)]

    assert event_document(events[3], reversed(events)).splitlines() == [
        "head 4",
        "head 2",
        "head 3",
        "head 5",
        "head 6",
    ]


def test_the_window_skips_more_sensitive_and_distant_neighbours() -> None:
    event = text(5, level=1, minutes=0)
    neighbours = [
        text(3, level=2),
        text(4, level=0, minutes=-int(CONTEXT_MAX_GAP.total_seconds() // 60) - 1),
        text(6, level=1, minutes=int(CONTEXT_MAX_GAP.total_seconds() // 60)),
        text(7, level=0),
    ]

    assert event_document(event, neighbours).splitlines() == ["head 5", "head 6", "head 7"]


@given(size=st.integers(1, 12), new=st.integers(1, 12))
def test_appending_rewrites_the_new_event_and_the_ones_whose_window_it_joins(size: int, new: int) -> None:
    events = [text(i) for i in range(max(1, new - CONTEXT_AFTER - CONTEXT_BEFORE), new + 1)][-size:]

    documents = window_documents(events, new)

    present = {e.index for e in events}
    assert set(documents) == {i for i in range(new - CONTEXT_AFTER, new + 1) if i in present}
    for index, document in documents.items():
        assert document.splitlines()[0] == f"head {index}"
