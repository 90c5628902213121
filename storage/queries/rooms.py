"""``RoomQueries``: reading and listing rooms, written once for both backends."""

from __future__ import annotations

from collections.abc import Sequence

from storage.contracts.rooms import RoomStore
from storage.errors import NotFoundError
from storage.models import Page, Room, RoomStatus
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor, isoformat
from storage.queries.reader import Reader, cursor_time, page_of
from storage.rows import Row
from storage.scope import Scope

__all__ = ["RoomQueries", "readable_room"]


async def readable_room(reader: Reader, room_id: str, scope: Scope | None) -> Row:
    """The ``rooms`` row of ``room_id`` if its namespace is readable in ``scope``. Raises: NotFoundError."""
    p = reader.PARAMS()
    p.require(f"room_id = {p.add(room_id)}", p.readable("namespace", scope))
    row = await reader._fetch_one(f"SELECT * FROM rooms WHERE {p.sql()}", p.values)
    if row is None:
        raise NotFoundError("room", room_id)
    return row


class RoomQueries(Reader, RoomStore):
    """``RoomStore``'s reads of rooms: one room, and the scoped, paged listing (newest first)."""

    async def get_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        return self.ROWS.room(await readable_room(self, room_id, scope))

    async def list_rooms(
        self,
        *,
        status: RoomStatus | None = None,
        namespaces: Sequence[str] | None = None,
        participant: str | None = None,
        identity_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Room]:
        """See ``RoomStore.list_rooms``. ``participant``: present in the room (not left); ``identity_id``:
        took part (even if they left) or sent one of its events."""
        size = clamp_limit(limit)
        p = self.PARAMS()
        p.require(p.readable("namespace", scope))
        if namespaces:
            p.require(p.namespace_in("namespace", list(namespaces)))
        if status is not None:
            p.require(f"status = {p.add(RoomStatus(status).value)}")
        if participant is not None:
            p.require(
                "EXISTS (SELECT 1 FROM participants AS pa WHERE pa.room_id = rooms.room_id"
                f" AND pa.participant_id = {p.add(participant)} AND pa.left_at IS NULL)"
            )
        if identity_id is not None:
            p.require(
                "(EXISTS (SELECT 1 FROM participants AS pa WHERE pa.room_id = rooms.room_id"
                f" AND pa.participant_id = {p.add(identity_id)})"
                " OR EXISTS (SELECT 1 FROM events AS ev WHERE ev.room_id = rooms.room_id"
                f" AND ev.sender_identity_id = {p.add(identity_id)}))"
            )
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            p.require(
                f"(created_at, room_id) < ({p.add(p.time_value(cursor_time(at)))}, {p.add(str(last_id))})"
            )
        rows = await self._fetch(
            f"SELECT * FROM rooms WHERE {p.sql()} ORDER BY created_at DESC, room_id DESC LIMIT {p.add(size + 1)}",
            p.values,
        )
        return page_of(rows, size, self.ROWS.room, _room_key)


def _room_key(room: Room) -> tuple[str, str]:
    return isoformat(room.created_at), room.room_id
