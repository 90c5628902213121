"""Rooms, their conversation state, participants and channel bindings.

Every function takes an apsw connection already inside a transaction (``Database.write``/``read``).
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from storage.contracts.store import MemoryStore
from storage.errors import ConflictError, PermissionDeniedError
from storage.models import (
    ConversationState,
    Event,
    EventSource,
    NewEvent,
    NewRoom,
    Page,
    Room,
    RoomStatus,
    Visibility,
    new_id,
    utc_now,
)
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor
from storage.scope import Scope
from storage.sqlite.connection import Database
from storage.sqlite.events import append_event, check_room_writable, room_row
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
    if scope is not None and not scope.can_write(room.namespace):
        raise PermissionDeniedError(
            f"agent {scope.agent!r} may not create rooms in namespace {room.namespace!r}; writable: "
            f"{', '.join(scope.write_namespaces) or 'none'}"
        )
    room_id = room.room_id or new_id("room")
    if fetch_one(conn, "SELECT 1 FROM rooms WHERE room_id = ?", (room_id,)) is not None:
        raise ConflictError(f"room {room_id!r} already exists: choose another id or omit it")
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
    row = room_row(conn, room_id)
    merged: dict[str, Any] = json.loads(row["metadata"])
    for key, value in metadata.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    conn.execute("UPDATE rooms SET metadata = ? WHERE room_id = ?", (to_json(merged), room_id))
    return ROWS.room(room_row(conn, room_id))


def close_room(conn: apsw.Connection, room_id: str, scope: Scope | None = None) -> Room:
    """Close a room (idempotent: the first ``closed_at`` stays). Raises: NotFoundError, PermissionDeniedError."""
    row = room_row(conn, room_id, scope)
    check_room_writable(row, scope)
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
    check_room_writable(row, scope)
    current = ROWS.room(row).state
    if expected_version is not None and expected_version != current.version:
        raise ConflictError(
            f"the conversation state of room {room_id!r} is at version {current.version}, "
            f"you sent {expected_version}: re-read it and retry",
            current_version=current.version,
            current=current,
        )
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
    check_room_writable(row, scope)
    room = ROWS.room(row)
    if room.status != RoomStatus.OPEN:
        raise ConflictError(f"room {room_id!r} is closed: it cannot be handed off")
    from_agent = room.state.active_agent
    conn.execute(
        "UPDATE rooms SET active_agent = ?, handoff_count = handoff_count + 1,"
        " state_version = state_version + 1, state_updated_at = ? WHERE room_id = ?",
        (to_agent, ts(utc_now()), room_id),
    )
    content = f"handoff from {from_agent or 'nobody'} to {to_agent}" + (f": {reason}" if reason else "")
    result = append_event(
        conn,
        NewEvent(
            room_id=room_id,
            type="handoff",
            content=content,
            visibility=Visibility.AGENTS,
            source=EventSource(agent=by_agent),
            metadata={"from_agent": from_agent, "to_agent": to_agent, "reason": reason},
        ),
        None,
        configured_dimensions,
    )
    return ROWS.room(room_row(conn, room_id)).state, result.event


class SQLiteRooms(MemoryStore):
    """``RoomStore``'s rooms and conversation state on SQLite."""

    _db: Database
    _dims: int | None

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
