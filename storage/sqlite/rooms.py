"""Rooms, their conversation state, participants and channel bindings.

Every function takes an apsw connection already inside a transaction (``Database.write``/``read``).
"""

from __future__ import annotations

from typing import Any

import apsw

from storage.models import (
    ConversationState,
    Event,
    NewRoom,
    Room,
    new_id,
    utc_now,
)
from storage.models.rooms import check_room_creation, check_room_writable, merged_metadata, room_id_taken
from storage.queries.rooms import Handoff, RoomQueries, StateChange
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.events import append_event, room_row
from storage.sqlite.rows import ROWS, fetch_one, to_json, ts

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


def change_state(conn: apsw.Connection, change: StateChange) -> ConversationState:
    """Run a conversation-state change (``StateChange``). Raises: NotFoundError, PermissionDeniedError,
    ConflictError."""
    change.check(ROWS.room(room_row(conn, change.room_id, change.scope)))
    conn.execute(
        "UPDATE rooms SET phase = COALESCE(?, phase), active_agent = COALESCE(?, active_agent),"
        " state_version = state_version + 1, state_updated_at = ? WHERE room_id = ?",
        (change.phase, change.active_agent, ts(utc_now()), change.room_id),
    )
    return ROWS.room(room_row(conn, change.room_id)).state


def hand_off(
    conn: apsw.Connection, handoff: Handoff, configured_dimensions: int | None
) -> tuple[ConversationState, Event]:
    """Run a handoff (``Handoff``). Raises: NotFoundError, PermissionDeniedError, ConflictError (closed)."""
    event = handoff.event(ROWS.room(room_row(conn, handoff.room_id, handoff.scope)))
    conn.execute(
        "UPDATE rooms SET active_agent = ?, handoff_count = handoff_count + 1,"
        " state_version = state_version + 1, state_updated_at = ? WHERE room_id = ?",
        (handoff.to_agent, ts(utc_now()), handoff.room_id),
    )
    result = append_event(conn, event, None, configured_dimensions)
    return ROWS.room(room_row(conn, handoff.room_id)).state, result.event


class SQLiteRooms(RoomQueries, SQLiteCore):
    """``RoomStore``'s writes of rooms and conversation state on SQLite (the reads are ``RoomQueries``)."""

    async def create_room(self, room: NewRoom, *, scope: Scope | None = None) -> Room:
        return await self._db.write(create_room, room, scope)

    async def update_room_metadata(self, room_id: str, metadata: dict[str, Any]) -> Room:
        return await self._db.write(update_room_metadata, room_id, metadata)

    async def close_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        return await self._db.write(close_room, room_id, scope)

    async def _change_state(self, change: StateChange) -> ConversationState:
        return await self._db.write(change_state, change)

    async def _hand_off(self, handoff: Handoff) -> tuple[ConversationState, Event]:
        return await self._db.write(hand_off, handoff, self._dims)
