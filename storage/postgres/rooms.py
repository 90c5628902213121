"""Rooms, their conversation state and handoffs between agents, on PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.errors import InvalidInputError
from storage.handoff import handoff_event
from storage.models import ConversationState, Event, NewRoom, Page, Room, RoomStatus, new_id, utc_now
from storage.models.rooms import (
    check_room_creation,
    check_room_writable,
    merged_metadata,
    room_id_taken,
    stale_state,
)
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor, encode_cursor, isoformat
from storage.postgres.events import PostgresEvents, fetch_room_row
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.scope import Scope

__all__ = ["PostgresRooms", "parse_time"]


def parse_time(value: Any) -> datetime:
    """A cursor's ISO timestamp back to ``datetime``. Raises: InvalidInputError."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInputError(
            "cursor is not valid: pass back the next_cursor of the previous page"
        ) from exc


class PostgresRooms(PostgresEvents):
    """Rooms: create, read, list, metadata, close, conversation state, handoffs (a state change and its
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

    async def get_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        """Return a room readable in ``scope``. Raises: NotFoundError."""
        async with self._connection() as conn:
            return ROWS.room(await fetch_room_row(conn, room_id, scope=scope))

    async def list_rooms(
        self,
        *,
        status: RoomStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Room]:
        """List rooms readable in ``scope``, newest first (``created_at`` then id). Raises: InvalidInputError."""
        size = clamp_limit(limit)
        p = PostgresParams()
        conds: list[str] = [p.readable("namespace", scope)]
        params: list[Any] = p.values
        if status is not None:
            params.append(str(status))
            conds.append(f"status = ${len(params)}")
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            params += [parse_time(at), str(last_id)]
            conds.append(f"(created_at, room_id) < (${len(params) - 1}, ${len(params)})")
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        params.append(size + 1)
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM rooms {where} ORDER BY created_at DESC, room_id DESC LIMIT ${len(params)}",
                *params,
            )
        items = [ROWS.room(r) for r in rows[:size]]
        more = len(rows) > size
        next_cursor = encode_cursor(isoformat(items[-1].created_at), items[-1].room_id) if more else None
        return Page[Room](items=items, next_cursor=next_cursor)

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

    async def update_conversation_state(
        self,
        room_id: str,
        *,
        phase: str | None = None,
        active_agent: str | None = None,
        expected_version: int | None = None,
        scope: Scope | None = None,
    ) -> ConversationState:
        """Set phase and/or active agent; the state version grows by one.

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
            ConflictError: ``expected_version`` differs from the current version (carries it).
        """
        async with self._transaction() as conn:
            current_row = await fetch_room_row(conn, room_id, lock=True, scope=scope)
            check_room_writable(room_id, current_row["namespace"], scope)
            current = ROWS.room(current_row)
            if expected_version is not None and current.state.version != expected_version:
                raise stale_state(room_id, current.state, expected_version)
            row = await conn.fetchrow(
                "UPDATE rooms SET phase = coalesce($2, phase), active_agent = coalesce($3, active_agent),"
                " state_version = state_version + 1, state_updated_at = $4 WHERE room_id = $1 RETURNING *",
                room_id,
                phase,
                active_agent,
                utc_now(),
            )
        return ROWS.room(row).state

    async def record_handoff(
        self,
        room_id: str,
        *,
        to_agent: str,
        by_agent: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> tuple[ConversationState, Event]:
        """Hand the room to ``to_agent``: state change and a ``handoff`` event in one transaction.

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
            ConflictError: the room is closed.
        """
        async with self._transaction() as conn:
            current_row = await fetch_room_row(conn, room_id, lock=True, scope=scope)
            check_room_writable(room_id, current_row["namespace"], scope)
            event = handoff_event(ROWS.room(current_row), to_agent=to_agent, by_agent=by_agent, reason=reason)
            row = await conn.fetchrow(
                "UPDATE rooms SET active_agent = $2, handoff_count = handoff_count + 1,"
                " state_version = state_version + 1, state_updated_at = $3,"
                " last_event_index = last_event_index + 1 WHERE room_id = $1 RETURNING *",
                room_id,
                to_agent,
                utc_now(),
            )
            created = await self._insert_event(conn, event, row["last_event_index"], None, row["namespace"])
        return ROWS.room(row).state, created
