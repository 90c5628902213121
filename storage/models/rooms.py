"""Room records: rooms, their conversation state, participants and channel bindings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import Field

from storage.errors import ConflictError, InvalidInputError, PermissionDeniedError
from storage.models.common import Id, Namespace, _Record

if TYPE_CHECKING:
    from storage.scope import Scope

__all__ = [
    "ChannelBinding",
    "ConversationState",
    "DEFAULT_ROOM_NAMESPACE",
    "NewRoom",
    "PARTICIPANT_KINDS",
    "Participant",
    "Room",
    "RoomStatus",
    "check_participant_kind",
    "check_room_open",
    "check_room_creation",
    "check_room_writable",
    "merged_metadata",
    "room_id_taken",
    "stale_state",
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


ParticipantKind = Literal["agent", "identity", "human"]
#: The kinds of participant a room accepts.
PARTICIPANT_KINDS: tuple[str, ...] = get_args(ParticipantKind)


class Participant(_Record):
    """Someone in a room: an agent (``kind='agent'``) or a person (``kind='identity'``, id of an identity)."""

    room_id: str
    participant_id: str
    kind: ParticipantKind
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


# Rules of the rooms area that every backend applies before or around its SQL.


def check_participant_kind(kind: str) -> None:
    """Raises: InvalidInputError: ``kind`` is not one of ``PARTICIPANT_KINDS``."""
    if kind not in PARTICIPANT_KINDS:
        raise InvalidInputError(f"participant kind {kind!r} is not one of {', '.join(PARTICIPANT_KINDS)}")


def check_room_creation(namespace: str, scope: Scope | None) -> None:
    """Raises: PermissionDeniedError: ``scope`` may not create rooms in ``namespace`` (it does not write it)."""
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"agent {scope.agent!r} may not create rooms in namespace {namespace!r}; writable: "
            f"{', '.join(scope.write_namespaces) or 'none'}"
        )


def check_room_open(room_id: str, status: str) -> None:
    """Raises: ConflictError: the room (its ``status``) is closed: it takes no new events or handoffs."""
    if status != RoomStatus.OPEN:
        raise ConflictError(f"room {room_id!r} is closed: open a new room to continue")


def check_room_writable(room_id: str, namespace: str, scope: Scope | None) -> None:
    """Raises: PermissionDeniedError: ``scope`` reads the room but does not write its ``namespace``."""
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"agent {scope.agent!r} may read room {room_id!r} but not write to it (namespace "
            f"{namespace!r}; writable: {', '.join(scope.write_namespaces) or 'none'})"
        )


def room_id_taken(room_id: str) -> ConflictError:
    """The error of creating a room with an id another room holds, visible to the caller or not.

    Room ids are unique in the tenant, so a taken id cannot be given again; the answer is the same whether
    the caller may read that room or not, and says nothing more about it (docs/security.md: ids chosen by
    callers are the one thing a writer can learn exists).
    """
    return ConflictError(f"room id {room_id!r} is not available: choose another id or omit it for a new one")


def merged_metadata(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``current`` with the top-level keys of ``patch`` set; a ``None`` value removes its key."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def stale_state(room_id: str, state: ConversationState, expected_version: int) -> ConflictError:
    """The error of a conversation-state write made at ``expected_version`` while ``state`` is current."""
    return ConflictError(
        f"the conversation state of room {room_id!r} is at version {state.version}, "
        f"you sent {expected_version}: re-read it and retry",
        current_version=state.version,
        current=state,
    )
