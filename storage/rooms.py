"""Rooms, the rule both backends share: the statement that lists rooms with their filters, and its page.

The ``rooms``, ``participants`` and ``events`` tables have the same columns in both schemas, so the
listing SQL is built here once with the dialect's ``Params`` (``storage.filters``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.errors import InvalidInputError
from storage.filters import Params, all_of
from storage.models import Page, Room
from storage.models.rooms import RoomFilter
from storage.paging import decode_cursor, encode_cursor, isoformat
from storage.scope import Scope

__all__ = ["room_list_sql", "room_page"]


def room_list_sql(p: Params, filters: RoomFilter, limit: int, cursor: str | None, scope: Scope | None) -> str:
    """SQL listing ``limit + 1`` rooms matching ``filters`` and readable in ``scope`` after ``cursor``,
    newest first by ``(created_at, room_id)`` (read the page with ``room_page``).

    ``participant``: a present participant (not left). ``identity_id``: the person took part (even if they
    left) or sent one of the room's events.

    Raises:
        InvalidInputError: bad cursor.
    """
    conds = [p.readable("namespace", scope)]
    if filters.namespaces:
        conds.append(p.namespace_in("namespace", filters.namespaces))
    if filters.status is not None:
        conds.append(f"status = {p.add(filters.status.value)}")
    if filters.participant is not None:
        conds.append(
            "EXISTS (SELECT 1 FROM participants AS pa WHERE pa.room_id = rooms.room_id"
            f" AND pa.participant_id = {p.add(filters.participant)} AND pa.left_at IS NULL)"
        )
    if filters.identity_id is not None:
        conds.append(
            "(EXISTS (SELECT 1 FROM participants AS pa WHERE pa.room_id = rooms.room_id"
            f" AND pa.participant_id = {p.add(filters.identity_id)})"
            " OR EXISTS (SELECT 1 FROM events AS ev WHERE ev.room_id = rooms.room_id"
            f" AND ev.sender_identity_id = {p.add(filters.identity_id)}))"
        )
    if cursor is not None:
        at, last_id = decode_cursor(cursor, 2)
        try:
            after = p.time_value(datetime.fromisoformat(str(at)))
        except ValueError as exc:
            raise InvalidInputError(
                "cursor is not valid: pass back the next_cursor of the previous page"
            ) from exc
        conds.append(f"(created_at, room_id) < ({p.add(after)}, {p.add(str(last_id))})")
    return f"SELECT * FROM rooms WHERE {all_of(conds)} ORDER BY created_at DESC, room_id DESC LIMIT {p.add(limit + 1)}"


def room_page(
    rows: Sequence[Mapping[str, Any]], limit: int, load: Callable[[Mapping[str, Any]], Room]
) -> Page[Room]:
    """The page of ``room_list_sql``'s rows (``load``: the dialect's row mapper)."""
    items = [load(r) for r in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor(isoformat(items[-1].created_at), items[-1].room_id) if more else None
    return Page[Room](items=items, next_cursor=next_cursor)
