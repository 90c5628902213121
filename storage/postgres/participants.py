"""Participants of rooms and the channels bound to them."""

from __future__ import annotations

from typing import Any

from storage.errors import ConflictError, NotFoundError
from storage.models import ChannelBinding, Participant, utc_now
from storage.models.rooms import check_participant_kind
from storage.postgres.core import PostgresCore
from storage.postgres.events import fetch_room_row
from storage.postgres.rows import ROWS

__all__ = ["PostgresParticipants"]


class PostgresParticipants(PostgresCore):
    """Participants (join, leave, list) and channel bindings (attach, read, update, detach, list)."""

    async def add_participant(
        self, room_id: str, participant_id: str, *, kind: str = "agent", role: str | None = None
    ) -> Participant:
        """Add or re-join a participant (clears ``left_at``, updates role). Raises: NotFoundError."""
        check_participant_kind(kind)
        async with self._transaction() as conn:
            await fetch_room_row(conn, room_id)
            row = await conn.fetchrow(
                "INSERT INTO participants (room_id, participant_id, kind, role, joined_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, participant_id) DO UPDATE"
                " SET left_at = NULL, role = EXCLUDED.role, kind = EXCLUDED.kind"
                " RETURNING *",
                room_id,
                participant_id,
                kind,
                role,
                utc_now(),
            )
        return ROWS.participant(row)

    async def remove_participant(self, room_id: str, participant_id: str) -> Participant:
        """Mark a participant as having left. Raises: NotFoundError."""
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE participants SET left_at = coalesce(left_at, $3)"
                " WHERE room_id = $1 AND participant_id = $2 RETURNING *",
                room_id,
                participant_id,
                utc_now(),
            )
            if row is None:
                raise NotFoundError("participant", f"{room_id}/{participant_id}")
        return ROWS.participant(row)

    async def list_participants(self, room_id: str, *, include_left: bool = False) -> list[Participant]:
        """List participants in order of joining. Raises: NotFoundError (no such room)."""
        async with self._connection() as conn:
            await fetch_room_row(conn, room_id)
            rows = await conn.fetch(
                "SELECT * FROM participants WHERE room_id = $1 AND ($2 OR left_at IS NULL)"
                " ORDER BY joined_at, join_seq",
                room_id,
                include_left,
            )
        return [ROWS.participant(r) for r in rows]

    async def add_channel_binding(
        self, room_id: str, channel_id: str, channel_type: str, config: dict[str, Any] | None = None
    ) -> ChannelBinding:
        """Attach a channel. Raises: NotFoundError (room), ConflictError (already bound)."""
        now = utc_now()
        async with self._transaction() as conn:
            await fetch_room_row(conn, room_id)
            row = await conn.fetchrow(
                "INSERT INTO channel_bindings"
                " (room_id, channel_id, channel_type, config, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (room_id, channel_id) DO NOTHING RETURNING *",
                room_id,
                channel_id,
                channel_type,
                config or {},
                now,
            )
            if row is None:
                raise ConflictError(f"channel {channel_id!r} is already bound to room {room_id!r}")
        return ROWS.binding(row)

    async def get_channel_binding(self, room_id: str, channel_id: str) -> ChannelBinding:
        """Return one binding. Raises: NotFoundError."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM channel_bindings WHERE room_id = $1 AND channel_id = $2", room_id, channel_id
            )
        if row is None:
            raise NotFoundError("channel binding", channel_id)
        return ROWS.binding(row)

    async def update_channel_binding(
        self, room_id: str, channel_id: str, config: dict[str, Any]
    ) -> ChannelBinding:
        """Replace a binding's config. Raises: NotFoundError."""
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE channel_bindings SET config = $3, updated_at = $4"
                " WHERE room_id = $1 AND channel_id = $2 RETURNING *",
                room_id,
                channel_id,
                config,
                utc_now(),
            )
            if row is None:
                raise NotFoundError("channel binding", channel_id)
        return ROWS.binding(row)

    async def remove_channel_binding(self, room_id: str, channel_id: str) -> None:
        """Detach a channel. Raises: NotFoundError."""
        async with self._transaction() as conn:
            status = await conn.execute(
                "DELETE FROM channel_bindings WHERE room_id = $1 AND channel_id = $2", room_id, channel_id
            )
            if status.endswith(" 0"):
                raise NotFoundError("channel binding", channel_id)

    async def list_channel_bindings(self, room_id: str) -> list[ChannelBinding]:
        """List bindings, oldest first. Raises: NotFoundError (no such room)."""
        async with self._connection() as conn:
            await fetch_room_row(conn, room_id)
            rows = await conn.fetch(
                "SELECT * FROM channel_bindings WHERE room_id = $1 ORDER BY created_at, bind_seq", room_id
            )
        return [ROWS.binding(r) for r in rows]
