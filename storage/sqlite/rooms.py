"""Rooms, their conversation state, participants and channel bindings.

Every function takes an apsw connection already inside a transaction (``Database.write``/``read``).
"""

from __future__ import annotations

from typing import Any

import apsw

from storage.handoff import handoff_event
from storage.models import (
    ConversationState,
    Event,
    NewRoom,
    Page,
    Room,
    RoomStatus,
    new_id,
    utc_now,
)
from storage.models.rooms import (
    check_room_creation,
    check_room_writable,
    merged_metadata,
    room_id_taken,
    stale_state,
)
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.events import append_event, room_row
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, make_page, to_json, ts

__all__ = ["SQLiteRooms"]


def create_room(conn: apsw.Connection, room: NewRoom, scope: Scope | None = None) -> Room:
    """Insert a room.

    Raises:
        PermissionDeniedError: the room's namespace is not writable in ``scope``.
        ConflictError: the id is taken.
        InvalidInputError: metadata is not JSON.
    """
    check_room_creation(room.namespace, scope)
    room_id = room.room_id or new_id("room")
    if fetch_one(conn, "SELECT 1 FROM rooms WHERE room_id = ?", (room_id,)) is not None:
        raise room_id_taken(room_id)
    now = ts(utc_now())
    conn.execute(
        "INSERT INTO rooms (room_id, namespace, name, status, metadata, state_updated_at, created_by,"
        " created_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?)",
        (room_id, room.namespace, room.name, to_json(room.metadata), now, room.created_by, now),
    )
    return ROWS.room(room_row(conn, room_id))


def get_room(conn: apsw.Connection, room_id: str, scope: Scope | None = None) -> Room:
    """Return a room readable in ``scope``. Raises: NotFoundError."""
    return ROWS.room(room_row(conn, room_id, scope))


def list_rooms(
    conn: apsw.Connection,
    status: RoomStatus | None,
    limit: int,
    cursor: str | None,
    scope: Scope | None = None,
) -> Page[Room]:
    """Rooms readable in ``scope``, newest first by ``(created_at, room_id)``. Raises: InvalidInputError."""
    readable, readable_params = SQLiteParams.readable_clause("namespace", scope)
    where: list[str] = [readable]
    params: list[Any] = list(readable_params)
    if status is not None:
        where.append("status = ?")
        params.append(RoomStatus(status).value)
    if cursor is not None:
        where.append("(created_at, room_id) < (?, ?)")
        params.extend(decode_cursor(cursor, 2))
    rows = fetch_all(
        conn,
        f"SELECT * FROM rooms WHERE {' AND '.join(where)} ORDER BY created_at DESC, room_id DESC LIMIT ?",
        (*params, limit + 1),
    )
    return make_page(rows, limit, ROWS.room, "created_at", "room_id")


def update_room_metadata(conn: apsw.Connection, room_id: str, metadata: dict[str, Any]) -> Room:
    """Merge ``metadata`` into the room's (``None`` values remove keys). Raises: NotFoundError."""
    merged = merged_metadata(ROWS.room(room_row(conn, room_id)).metadata, metadata)
    conn.execute("UPDATE rooms SET metadata = ? WHERE room_id = ?", (to_json(merged), room_id))
    return ROWS.room(room_row(conn, room_id))


def close_room(conn: apsw.Connection, room_id: str, scope: Scope | None = None) -> Room:
    """Close a room (idempotent: the first ``closed_at`` stays). Raises: NotFoundError, PermissionDeniedError."""
    row = room_row(conn, room_id, scope)
    check_room_writable(room_id, row["namespace"], scope)
    if row["status"] != "closed":
        conn.execute(
            "UPDATE rooms SET status = 'closed', closed_at = ? WHERE room_id = ?", (ts(utc_now()), room_id)
        )
    return ROWS.room(room_row(conn, room_id))


def update_conversation_state(
    conn: apsw.Connection,
    room_id: str,
    phase: str | None,
    active_agent: str | None,
    expected_version: int | None,
    scope: Scope | None = None,
) -> ConversationState:
    """Set phase and/or active agent, bumping the state version.

    Raises: NotFoundError, PermissionDeniedError (namespace not writable in ``scope``), ConflictError.
    """
    row = room_row(conn, room_id, scope)
    check_room_writable(room_id, row["namespace"], scope)
    current = ROWS.room(row).state
    if expected_version is not None and expected_version != current.version:
        raise stale_state(room_id, current, expected_version)
    conn.execute(
        "UPDATE rooms SET phase = COALESCE(?, phase), active_agent = COALESCE(?, active_agent),"
        " state_version = state_version + 1, state_updated_at = ? WHERE room_id = ?",
        (phase, active_agent, ts(utc_now()), room_id),
    )
    return ROWS.room(room_row(conn, room_id)).state


def record_handoff(
    conn: apsw.Connection,
    room_id: str,
    to_agent: str,
    by_agent: str,
    reason: str | None,
    configured_dimensions: int | None,
    scope: Scope | None = None,
) -> tuple[ConversationState, Event]:
    """Hand the room to ``to_agent`` and append a ``handoff`` event.

    Raises: NotFoundError, PermissionDeniedError (namespace not writable in ``scope``), ConflictError.
    """
    row = room_row(conn, room_id, scope)
    check_room_writable(room_id, row["namespace"], scope)
    event = handoff_event(ROWS.room(row), to_agent=to_agent, by_agent=by_agent, reason=reason)
    conn.execute(
        "UPDATE rooms SET active_agent = ?, handoff_count = handoff_count + 1,"
        " state_version = state_version + 1, state_updated_at = ? WHERE room_id = ?",
        (to_agent, ts(utc_now()), room_id),
    )
    result = append_event(conn, event, None, configured_dimensions)
    return ROWS.room(room_row(conn, room_id)).state, result.event


class SQLiteRooms(SQLiteCore):
    """``RoomStore``'s rooms and conversation state on SQLite."""

    async def create_room(self, room: NewRoom, *, scope: Scope | None = None) -> Room:
        return await self._db.write(create_room, room, scope)

    async def get_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        return await self._db.read(get_room, room_id, scope)

    async def list_rooms(
        self,
        *,
        status: RoomStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Room]:
        return await self._db.read(list_rooms, status, clamp_limit(limit), cursor, scope)

    async def update_room_metadata(self, room_id: str, metadata: dict[str, Any]) -> Room:
        return await self._db.write(update_room_metadata, room_id, metadata)

    async def close_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        return await self._db.write(close_room, room_id, scope)

    async def update_conversation_state(
        self,
        room_id: str,
        *,
        phase: str | None = None,
        active_agent: str | None = None,
        expected_version: int | None = None,
        scope: Scope | None = None,
    ) -> ConversationState:
        return await self._db.write(
            update_conversation_state, room_id, phase, active_agent, expected_version, scope
        )

    async def record_handoff(
        self,
        room_id: str,
        *,
        to_agent: str,
        by_agent: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> tuple[ConversationState, Event]:
        return await self._db.write(record_handoff, room_id, to_agent, by_agent, reason, self._dims, scope)
