"""Participants of rooms and the channels bound to them, on SQLite.

Every function takes an apsw connection already inside a transaction (``Database.write``/``read``).
"""

from __future__ import annotations

from typing import Any

import apsw

from storage.errors import ConflictError, NotFoundError
from storage.models import ChannelBinding, Participant, utc_now
from storage.models.rooms import check_participant_kind
from storage.sqlite.core import SQLiteCore
from storage.sqlite.events import room_row
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, to_json, ts

__all__ = ["SQLiteParticipants"]


def _participant_row(conn: apsw.Connection, room_id: str, participant_id: str) -> dict[str, Any] | None:
    row = fetch_one(
        conn, "SELECT * FROM participants WHERE room_id = ? AND participant_id = ?", (room_id, participant_id)
    )
    return row


def add_participant(
    conn: apsw.Connection, room_id: str, participant_id: str, kind: str, role: str | None
) -> Participant:
    """Add or re-join a participant. Raises: NotFoundError (room), InvalidInputError (kind)."""
    check_participant_kind(kind)
    room_row(conn, room_id)
    if _participant_row(conn, room_id, participant_id) is None:
        conn.execute(
            "INSERT INTO participants (room_id, participant_id, kind, role, joined_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (room_id, participant_id, kind, role, ts(utc_now())),
        )
    else:
        conn.execute(
            "UPDATE participants SET kind = ?, role = ?, left_at = NULL"
            " WHERE room_id = ? AND participant_id = ?",
            (kind, role, room_id, participant_id),
        )
    row = _participant_row(conn, room_id, participant_id)
    assert row is not None
    return ROWS.participant(row)


def remove_participant(conn: apsw.Connection, room_id: str, participant_id: str) -> Participant:
    """Mark a participant as left (the first ``left_at`` stays). Raises: NotFoundError."""
    row = _participant_row(conn, room_id, participant_id)
    if row is None:
        raise NotFoundError("participant", f"{room_id}/{participant_id}")
    if row["left_at"] is None:
        conn.execute(
            "UPDATE participants SET left_at = ? WHERE room_id = ? AND participant_id = ?",
            (ts(utc_now()), room_id, participant_id),
        )
        row = _participant_row(conn, room_id, participant_id)
        assert row is not None
    return ROWS.participant(row)


def list_participants(conn: apsw.Connection, room_id: str, include_left: bool) -> list[Participant]:
    """A room's participants in order of joining. Raises: NotFoundError (room)."""
    room_row(conn, room_id)
    left = "" if include_left else " AND left_at IS NULL"
    rows = fetch_all(
        conn, f"SELECT * FROM participants WHERE room_id = ?{left} ORDER BY join_seq", (room_id,)
    )
    return [ROWS.participant(r) for r in rows]


def _binding_row(conn: apsw.Connection, room_id: str, channel_id: str) -> dict[str, Any]:
    row = fetch_one(
        conn, "SELECT * FROM channel_bindings WHERE room_id = ? AND channel_id = ?", (room_id, channel_id)
    )
    if row is None:
        raise NotFoundError("channel binding", f"{room_id}/{channel_id}")
    return row


def add_channel_binding(
    conn: apsw.Connection, room_id: str, channel_id: str, channel_type: str, config: dict[str, Any] | None
) -> ChannelBinding:
    """Bind a channel to a room. Raises: NotFoundError (room), ConflictError (already bound)."""
    room_row(conn, room_id)
    taken = fetch_one(
        conn, "SELECT 1 FROM channel_bindings WHERE room_id = ? AND channel_id = ?", (room_id, channel_id)
    )
    if taken is not None:
        raise ConflictError(f"channel {channel_id!r} is already bound to room {room_id!r}")
    now = ts(utc_now())
    conn.execute(
        "INSERT INTO channel_bindings (room_id, channel_id, channel_type, config, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (room_id, channel_id, channel_type, to_json(config or {}, "config"), now, now),
    )
    return ROWS.binding(_binding_row(conn, room_id, channel_id))


def get_channel_binding(conn: apsw.Connection, room_id: str, channel_id: str) -> ChannelBinding:
    """Return one binding. Raises: NotFoundError."""
    return ROWS.binding(_binding_row(conn, room_id, channel_id))


def update_channel_binding(
    conn: apsw.Connection, room_id: str, channel_id: str, config: dict[str, Any]
) -> ChannelBinding:
    """Replace a binding's config. Raises: NotFoundError."""
    _binding_row(conn, room_id, channel_id)
    conn.execute(
        "UPDATE channel_bindings SET config = ?, updated_at = ? WHERE room_id = ? AND channel_id = ?",
        (to_json(config, "config"), ts(utc_now()), room_id, channel_id),
    )
    return ROWS.binding(_binding_row(conn, room_id, channel_id))


def remove_channel_binding(conn: apsw.Connection, room_id: str, channel_id: str) -> None:
    """Detach a channel. Raises: NotFoundError."""
    _binding_row(conn, room_id, channel_id)
    conn.execute("DELETE FROM channel_bindings WHERE room_id = ? AND channel_id = ?", (room_id, channel_id))


def list_channel_bindings(conn: apsw.Connection, room_id: str) -> list[ChannelBinding]:
    """A room's bindings, oldest first. Raises: NotFoundError (room)."""
    room_row(conn, room_id)
    rows = fetch_all(conn, "SELECT * FROM channel_bindings WHERE room_id = ? ORDER BY bind_seq", (room_id,))
    return [ROWS.binding(r) for r in rows]


class SQLiteParticipants(SQLiteCore):
    """``RoomStore``'s participants and channel bindings on SQLite."""

    async def add_participant(
        self, room_id: str, participant_id: str, *, kind: str = "agent", role: str | None = None
    ) -> Participant:
        return await self._db.write(add_participant, room_id, participant_id, kind, role)

    async def remove_participant(self, room_id: str, participant_id: str) -> Participant:
        return await self._db.write(remove_participant, room_id, participant_id)

    async def list_participants(self, room_id: str, *, include_left: bool = False) -> list[Participant]:
        return await self._db.read(list_participants, room_id, include_left)

    async def add_channel_binding(
        self, room_id: str, channel_id: str, channel_type: str, config: dict[str, Any] | None = None
    ) -> ChannelBinding:
        return await self._db.write(add_channel_binding, room_id, channel_id, channel_type, config)

    async def get_channel_binding(self, room_id: str, channel_id: str) -> ChannelBinding:
        return await self._db.read(get_channel_binding, room_id, channel_id)

    async def update_channel_binding(
        self, room_id: str, channel_id: str, config: dict[str, Any]
    ) -> ChannelBinding:
        return await self._db.write(update_channel_binding, room_id, channel_id, config)

    async def remove_channel_binding(self, room_id: str, channel_id: str) -> None:
        await self._db.write(remove_channel_binding, room_id, channel_id)

    async def list_channel_bindings(self, room_id: str) -> list[ChannelBinding]:
        return await self._db.read(list_channel_bindings, room_id)
