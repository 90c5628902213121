"""Room records: rooms, their conversation state, participants and channel bindings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from storage.models.common import Id, Namespace, _Record

__all__ = [
    "ChannelBinding",
    "ConversationState",
    "DEFAULT_ROOM_NAMESPACE",
    "NewRoom",
    "Participant",
    "Room",
    "RoomStatus",
]


#: Namespace of a room created without one. Shared: the default policy reads and writes ``shared-*``.
DEFAULT_ROOM_NAMESPACE = "shared-rooms"


class RoomStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ConversationState(_Record):
    """State of a conversation that lives in the room, not in any agent.

    ``version`` starts at 1 and grows by one on every change of the state.
    """

    active_agent: str | None = None
    phase: str | None = None
    handoff_count: int = 0
    version: int = 1
    updated_at: datetime


class NewRoom(_Record):
    """A room to create. ``room_id`` is generated (``room_…``) when omitted.

    ``namespace``: who may see the room and its events, with the same rules as memories: an agent reads
    the room's events when its scope reads the namespace, and appends when its scope writes it.
    """

    room_id: Id | None = None
    namespace: Namespace = DEFAULT_ROOM_NAMESPACE
    name: str | None = Field(default=None, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_by: str | None = None


class Room(_Record):
    """One conversation. ``last_event_index`` is the index of its newest event (0 when empty).

    ``namespace`` governs who may read the room and its events (see ``NewRoom``).
    """

    room_id: str
    namespace: str = DEFAULT_ROOM_NAMESPACE
    name: str | None
    status: RoomStatus
    metadata: dict[str, Any]
    state: ConversationState
    last_event_index: int
    created_by: str | None
    created_at: datetime
    closed_at: datetime | None = None


class Participant(_Record):
    """Someone in a room: an agent (``kind='agent'``) or a person (``kind='identity'``, id of an identity)."""

    room_id: str
    participant_id: str
    kind: Literal["agent", "identity", "human"]
    role: str | None = None
    joined_at: datetime
    left_at: datetime | None = None


class ChannelBinding(_Record):
    """A channel (SMS number, email thread, web chat...) attached to a room, with per-binding config."""

    room_id: str
    channel_id: str
    channel_type: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
