"""``RoomQueries``: reading and listing rooms, written once for both backends."""

from __future__ import annotations

from storage.contracts.rooms import RoomStore
from storage.errors import NotFoundError
from storage.models import Page, Room, RoomStatus
from storage.paging import DEFAULT_PAGE_SIZE
from storage.queries.reader import Reader
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
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Room]:
        p = self.PARAMS()
        p.require(p.readable("namespace", scope))
        if status is not None:
            p.require(f"status = {p.add(RoomStatus(status).value)}")
        return await self._newest_first("rooms", "room_id", p, cursor, limit, self.ROWS.room)
