"""The RoomStore contract. Rooms, their conversation state, participants and channel bindings.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from storage.models import (
    ChannelBinding,
    ConversationState,
    Event,
    NewRoom,
    Page,
    Participant,
    Room,
    RoomStatus,
)
from storage.paging import DEFAULT_PAGE_SIZE
from storage.scope import Scope

__all__ = ["RoomStore"]


class RoomStore(abc.ABC):
    """Rooms, their conversation state, participants and channel bindings."""

    @abc.abstractmethod
    async def create_room(self, room: NewRoom, *, scope: Scope | None = None) -> Room:
        """Create a room (status open, empty state, ``last_event_index`` 0) in ``room.namespace``.

        Raises:
            PermissionDeniedError: the namespace is not writable in ``scope``.
            ConflictError: ``room.room_id`` is taken.
        """

    @abc.abstractmethod
    async def get_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        """Return a room. Raises: NotFoundError (also when its namespace is not readable in ``scope``)."""

    @abc.abstractmethod
    async def list_rooms(
        self,
        *,
        status: RoomStatus | None = None,
        namespaces: Sequence[str] | None = None,
        participant: str | None = None,
        identity_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Room]:
        """List rooms readable in ``scope``, newest first (by ``created_at`` then id).

        Filters narrow (AND): ``namespaces`` (names or ``*`` patterns), ``status``, ``participant``
        (present in the room), ``identity_id`` (the person took part, even if they left, or sent one of
        its events).

        Raises:
            InvalidInputError: bad cursor.
        """

    @abc.abstractmethod
    async def update_room_metadata(self, room_id: str, metadata: dict[str, Any]) -> Room:
        """Merge ``metadata`` into the room's metadata (keys set to ``None`` are removed).

        Raises:
            NotFoundError: no such room.
        """

    @abc.abstractmethod
    async def close_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        """Close a room (idempotent); closed rooms refuse new events.

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
        """

    @abc.abstractmethod
    async def update_conversation_state(
        self,
        room_id: str,
        *,
        phase: str | None = None,
        active_agent: str | None = None,
        expected_version: int | None = None,
        scope: Scope | None = None,
    ) -> ConversationState:
        """Set the phase and/or active agent of a room's conversation state (``None`` leaves a field).

        The state's version grows by one. With ``expected_version``, a stale version changes nothing.

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
            ConflictError: ``expected_version`` differs from the current version (carries it).
        """

    @abc.abstractmethod
    async def record_handoff(
        self,
        room_id: str,
        *,
        to_agent: str,
        by_agent: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> tuple[ConversationState, Event]:
        """Hand the room to ``to_agent`` in one transaction.

        Sets the active agent, increments ``handoff_count`` and the state version, and appends an event of
        type ``handoff`` (visibility ``agents``, metadata ``{"from_agent", "to_agent", "reason"}``).

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
            ConflictError: the room is closed.
        """

    # --- participants and channel bindings -----------------------------------------------------------

    @abc.abstractmethod
    async def add_participant(
        self, room_id: str, participant_id: str, *, kind: str = "agent", role: str | None = None
    ) -> Participant:
        """Add someone to a room, or re-join them (clears ``left_at``, updates role). Idempotent.

        Raises:
            NotFoundError: no such room.
        """

    @abc.abstractmethod
    async def remove_participant(self, room_id: str, participant_id: str) -> Participant:
        """Mark a participant as having left (sets ``left_at``). Raises: NotFoundError."""

    @abc.abstractmethod
    async def list_participants(self, room_id: str, *, include_left: bool = False) -> list[Participant]:
        """List a room's participants in order of joining. Raises: NotFoundError (no such room)."""

    @abc.abstractmethod
    async def add_channel_binding(
        self, room_id: str, channel_id: str, channel_type: str, config: dict[str, Any] | None = None
    ) -> ChannelBinding:
        """Attach a channel to a room.

        Raises:
            NotFoundError: no such room.
            ConflictError: the channel is already bound to this room.
        """

    @abc.abstractmethod
    async def get_channel_binding(self, room_id: str, channel_id: str) -> ChannelBinding:
        """Return one binding. Raises: NotFoundError."""

    @abc.abstractmethod
    async def update_channel_binding(
        self, room_id: str, channel_id: str, config: dict[str, Any]
    ) -> ChannelBinding:
        """Replace a binding's config. Raises: NotFoundError."""

    @abc.abstractmethod
    async def remove_channel_binding(self, room_id: str, channel_id: str) -> None:
        """Detach a channel from a room. Raises: NotFoundError."""

    @abc.abstractmethod
    async def list_channel_bindings(self, room_id: str) -> list[ChannelBinding]:
        """List a room's bindings, oldest first. Raises: NotFoundError (no such room)."""
