"""Identities, the rules both backends share: merging two identities (one person found twice).

``merge_identities`` moves everything that names the merged identity to the surviving one, in one
transaction: its addresses, its room participation (a room where both took part keeps the survivor's
row) and the sender of its events; the survivor keeps its display name (taking the merged one's when it
has none) and metadata; the merged identity is deleted. Frozen escalation packages are history and keep
what they froze.

A merge is refused unless the caller sees everything it changes: every room where the merged identity
took part or sent an event must be readable in the scope, and its events within the scope's clearance.
The tables have the same columns in both schemas, so the whole merge is one plan (``merge_plan``,
``storage.queries.plan``) built here with the dialect's ``Params``; a backend runs it inside one write
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from storage.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from storage.filters import Params
from storage.models import Identity
from storage.queries.identities import identity_plan
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect
from storage.scope import Scope

__all__ = ["check_merge", "merge_plan", "merge_statements", "touched_rooms_sql"]

Statement = tuple[str, list[Any]]


def touched_rooms_sql(p: Params, identity_id: str) -> str:
    """SQL: ``room_id``, ``namespace`` and the highest ``sensitivity`` of the events sent there by
    ``identity_id`` (``NULL`` when none), for every room where it took part or sent an event."""
    sent = f"(SELECT MAX(e.sensitivity) FROM events AS e WHERE e.room_id = r.room_id AND e.sender_identity_id = {p.add(identity_id)})"
    took_part = f"EXISTS (SELECT 1 FROM participants AS pa WHERE pa.room_id = r.room_id AND pa.participant_id = {p.add(identity_id)})"
    wrote = f"EXISTS (SELECT 1 FROM events AS ev WHERE ev.room_id = r.room_id AND ev.sender_identity_id = {p.add(identity_id)})"
    return (
        f"SELECT r.room_id, r.namespace, {sent} AS sensitivity FROM rooms AS r WHERE {took_part} OR {wrote}"
    )


def check_merge(source: str, into: str, touched: Sequence[Mapping[str, Any]], scope: Scope | None) -> None:
    """Raise unless ``scope`` may merge ``source`` into ``into`` (rows of ``touched_rooms_sql``).

    Raises:
        InvalidInputError: ``source`` and ``into`` are the same identity.
        PermissionDeniedError: a touched room is not readable in ``scope``, or holds events of ``source``
            above its clearance (nothing is said of what the room holds).
    """
    if source == into:
        raise InvalidInputError(f"cannot merge identity {source!r} into itself")
    if scope is None:
        return
    hidden = [
        row
        for row in touched
        if not scope.can_read(str(row["namespace"]))
        or (row["sensitivity"] is not None and int(row["sensitivity"]) > scope.max_sensitivity.level)
    ]
    if hidden:
        raise PermissionDeniedError(
            f"identity {source!r} appears in {len(hidden)} room(s) agent {scope.agent!r} may not see in full: "
            "ask an operator (or an agent who sees them) to merge"
        )


def merge_statements(new_params: Callable[[], Params], source: str, into: str) -> list[Statement]:
    """The statements that merge ``source`` into ``into``, in order (each with its own values).

    ``new_params`` makes an empty ``Params`` of the dialect.
    """
    statements: list[Statement] = []

    def add(build: Callable[[Params], str]) -> None:
        p = new_params()
        statements.append((build(p), p.values))

    add(lambda p: f"UPDATE addresses SET identity_id = {p.add(into)} WHERE identity_id = {p.add(source)}")
    add(
        lambda p: (
            f"UPDATE participants SET participant_id = {p.add(into)} WHERE participant_id = {p.add(source)}"
            " AND NOT EXISTS (SELECT 1 FROM participants AS other WHERE other.room_id = participants.room_id"
            f" AND other.participant_id = {p.add(into)})"
        )
    )
    add(lambda p: f"DELETE FROM participants WHERE participant_id = {p.add(source)}")
    add(
        lambda p: (
            f"UPDATE events SET sender_identity_id = {p.add(into)} WHERE sender_identity_id = {p.add(source)}"
        )
    )
    add(
        lambda p: (
            "UPDATE identities SET display_name = COALESCE(display_name,"
            f" (SELECT s.display_name FROM identities AS s WHERE s.identity_id = {p.add(source)}))"
            f" WHERE identity_id = {p.add(into)}"
        )
    )
    add(lambda p: f"DELETE FROM identities WHERE identity_id = {p.add(source)}")
    return statements


def merge_plan(d: Dialect, source: str, into: str, scope: Scope | None) -> Plan[Identity]:
    """Merge ``source`` into ``into`` (run it in one write transaction); the survivor as it is after.

    Raises:
        InvalidInputError, PermissionDeniedError: see ``check_merge``.
        NotFoundError: either identity does not exist.
    """
    check_merge(source, into, [], None)
    for identity_id in (source, into):
        if (yield from identity_plan(d, identity_id)) is None:
            raise NotFoundError("identity", identity_id)
    p = d.params()
    touched = yield Query(touched_rooms_sql(p, source), p.values)
    check_merge(source, into, touched, scope)
    for sql, values in merge_statements(d.params, source, into):
        yield Query(sql, values)
    survivor = yield from identity_plan(d, into)
    assert survivor is not None  # it existed at the start of this transaction
    return survivor
