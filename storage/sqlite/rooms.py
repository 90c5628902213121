"""Rooms, their conversation state, participants and channel bindings.

Every function takes an apsw connection already inside a transaction (``Database.write``/``read``).
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from storage.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from storage.models import (
    ChannelBinding,
    ConversationState,
    Event,
    EventSource,
    NewEvent,
    NewRoom,
    Page,
    Participant,
    Room,
    RoomStatus,
    Visibility,
    new_id,
    utc_now,
)
from storage.paging import decode_cursor
from storage.scope import Scope
from storage.sqlite.events import append_event, check_room_writable, room_row
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.rows import (
    binding_from_row,
    fetch_all,
    fetch_one,
    make_page,
    participant_from_row,
    room_from_row,
    to_json,
    ts,
)

__all__ = [
    "add_channel_binding",
    "add_participant",
    "close_room",
    "create_room",
    "get_channel_binding",
    "list_channel_bindings",
    "list_participants",
    "list_rooms",
    "record_handoff",
    "remove_channel_binding",
    "remove_participant",
    "update_channel_binding",
    "update_conversation_state",
    "update_room_metadata",
]

_PARTICIPANT_KINDS = ("agent", "identity", "human")


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
    return room_from_row(room_row(conn, room_id))


def get_room(conn: apsw.Connection, room_id: str, scope: Scope | None = None) -> Room:
    """Return a room readable in ``scope``. Raises: NotFoundError."""
    return room_from_row(room_row(conn, room_id, scope))


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
    return make_page(rows, limit, room_from_row, "created_at", "room_id")


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
    return room_from_row(room_row(conn, room_id))


def close_room(conn: apsw.Connection, room_id: str, scope: Scope | None = None) -> Room:
    """Close a room (idempotent: the first ``closed_at`` stays). Raises: NotFoundError, PermissionDeniedError."""
    row = room_row(conn, room_id, scope)
    check_room_writable(row, scope)
    if row["status"] != "closed":
        conn.execute(
            "UPDATE rooms SET status = 'closed', closed_at = ? WHERE room_id = ?", (ts(utc_now()), room_id)
        )
    return room_from_row(room_row(conn, room_id))


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
    current = room_from_row(row).state
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
    return room_from_row(room_row(conn, room_id)).state


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
    room = room_from_row(row)
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
    return room_from_row(room_row(conn, room_id)).state, result.event


def _participant_row(conn: apsw.Connection, room_id: str, participant_id: str) -> dict[str, Any] | None:
    row = fetch_one(
        conn, "SELECT * FROM participants WHERE room_id = ? AND participant_id = ?", (room_id, participant_id)
    )
    return row


def add_participant(
    conn: apsw.Connection, room_id: str, participant_id: str, kind: str, role: str | None
) -> Participant:
    """Add or re-join a participant. Raises: NotFoundError (room), InvalidInputError (kind)."""
    if kind not in _PARTICIPANT_KINDS:
        raise InvalidInputError(f"participant kind {kind!r} is not one of {', '.join(_PARTICIPANT_KINDS)}")
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
    return participant_from_row(row)


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
    return participant_from_row(row)


def list_participants(conn: apsw.Connection, room_id: str, include_left: bool) -> list[Participant]:
    """A room's participants in order of joining. Raises: NotFoundError (room)."""
    room_row(conn, room_id)
    left = "" if include_left else " AND left_at IS NULL"
    rows = fetch_all(conn, f"SELECT * FROM participants WHERE room_id = ?{left} ORDER BY seq", (room_id,))
    return [participant_from_row(r) for r in rows]


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
    return binding_from_row(_binding_row(conn, room_id, channel_id))


def get_channel_binding(conn: apsw.Connection, room_id: str, channel_id: str) -> ChannelBinding:
    """Return one binding. Raises: NotFoundError."""
    return binding_from_row(_binding_row(conn, room_id, channel_id))


def update_channel_binding(
    conn: apsw.Connection, room_id: str, channel_id: str, config: dict[str, Any]
) -> ChannelBinding:
    """Replace a binding's config. Raises: NotFoundError."""
    _binding_row(conn, room_id, channel_id)
    conn.execute(
        "UPDATE channel_bindings SET config = ?, updated_at = ? WHERE room_id = ? AND channel_id = ?",
        (to_json(config, "config"), ts(utc_now()), room_id, channel_id),
    )
    return binding_from_row(_binding_row(conn, room_id, channel_id))


def remove_channel_binding(conn: apsw.Connection, room_id: str, channel_id: str) -> None:
    """Detach a channel. Raises: NotFoundError."""
    _binding_row(conn, room_id, channel_id)
    conn.execute("DELETE FROM channel_bindings WHERE room_id = ? AND channel_id = ?", (room_id, channel_id))


def list_channel_bindings(conn: apsw.Connection, room_id: str) -> list[ChannelBinding]:
    """A room's bindings, oldest first. Raises: NotFoundError (room)."""
    room_row(conn, room_id)
    rows = fetch_all(conn, "SELECT * FROM channel_bindings WHERE room_id = ? ORDER BY seq", (room_id,))
    return [binding_from_row(r) for r in rows]
