"""Rooms, their conversation state and handoffs between agents, on PostgreSQL."""

from __future__ import annotations

from typing import Any

from storage.models import ConversationState, Event, NewRoom, Room, new_id, utc_now
from storage.models.rooms import check_room_creation, check_room_writable, merged_metadata, room_id_taken
from storage.postgres.events import PostgresEvents, fetch_room_row
from storage.postgres.rows import ROWS
from storage.queries.rooms import Handoff, RoomQueries, StateChange
from storage.scope import Scope

__all__ = ["PostgresRooms"]


class PostgresRooms(RoomQueries, PostgresEvents):
    """Rooms' writes (the reads are ``RoomQueries``): create, metadata, close, conversation state, handoffs (a state change and its
    event, appended with ``PostgresEvents._insert_event``)."""

    async def create_room(self, room: NewRoom, *, scope: Scope | None = None) -> Room:
        """Create a room. Raises: PermissionDeniedError (namespace), ConflictError (``room_id`` taken)."""
        check_room_creation(room.namespace, scope)
        now = utc_now()
        room_id = room.room_id or new_id("room")
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO rooms (room_id, name, metadata, state_updated_at, created_by, created_at,"
                " namespace) VALUES ($1, $2, $3, $4, $5, $4, $6) ON CONFLICT (room_id) DO NOTHING RETURNING *",
                room_id,
                room.name,
                room.metadata,
                now,
                room.created_by,
                room.namespace,
            )
            if row is None:
                raise room_id_taken(room_id)
        return ROWS.room(row)

    async def update_room_metadata(self, room_id: str, metadata: dict[str, Any]) -> Room:
        """Merge ``metadata`` into the room's (``None`` values remove keys). Raises: NotFoundError."""
        async with self._transaction() as conn:
            current = ROWS.room(await fetch_room_row(conn, room_id, lock=True))
            row = await conn.fetchrow(
                "UPDATE rooms SET metadata = $2 WHERE room_id = $1 RETURNING *",
                room_id,
                merged_metadata(current.metadata, metadata),
            )
        return ROWS.room(row)

    async def close_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        """Close a room (idempotent). Raises: NotFoundError, PermissionDeniedError (namespace)."""
        async with self._transaction() as conn:
            current = await fetch_room_row(conn, room_id, scope=scope)
            check_room_writable(room_id, current["namespace"], scope)
            row = await conn.fetchrow(
                "UPDATE rooms SET status = 'closed', closed_at = $2 WHERE room_id = $1 AND status = 'open'"
                " RETURNING *",
                room_id,
                utc_now(),
            )
            if row is None:
                return ROWS.room(await fetch_room_row(conn, room_id))
        return ROWS.room(row)

    async def _change_state(self, change: StateChange) -> ConversationState:
        async with self._transaction() as conn:
            change.check(ROWS.room(await fetch_room_row(conn, change.room_id, lock=True, scope=change.scope)))
            row = await conn.fetchrow(
                "UPDATE rooms SET phase = coalesce($2, phase), active_agent = coalesce($3, active_agent),"
                " state_version = state_version + 1, state_updated_at = $4 WHERE room_id = $1 RETURNING *",
                change.room_id,
                change.phase,
                change.active_agent,
                utc_now(),
            )
        return ROWS.room(row).state

    async def _hand_off(self, handoff: Handoff) -> tuple[ConversationState, Event]:
        async with self._transaction() as conn:
            current = await fetch_room_row(conn, handoff.room_id, lock=True, scope=handoff.scope)
            event = handoff.event(ROWS.room(current))
            row = await conn.fetchrow(
                "UPDATE rooms SET active_agent = $2, handoff_count = handoff_count + 1,"
                " state_version = state_version + 1, state_updated_at = $3,"
                " last_event_index = last_event_index + 1 WHERE room_id = $1 RETURNING *",
                handoff.room_id,
                handoff.to_agent,
                utc_now(),
            )
            created = await self._insert_event(conn, event, row["last_event_index"], None, row["namespace"])
        return ROWS.room(row).state, created
