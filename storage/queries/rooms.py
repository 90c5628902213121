"""``RoomQueries``: reading and listing rooms and the conversation-state change, written once for both
backends (a backend runs the writes' transactions: ``_change_state``, ``_hand_off``)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from storage.contracts.rooms import RoomStore
from storage.errors import NotFoundError
from storage.handoff import handoff_event
from storage.models import ConversationState, Event, NewEvent, Page, Room, RoomStatus
from storage.models.rooms import check_room_writable, stale_state
from storage.paging import DEFAULT_PAGE_SIZE
from storage.queries.reader import Reader
from storage.rows import Row
from storage.scope import Scope

__all__ = ["Handoff", "RoomQueries", "StateChange", "readable_room"]


@dataclass(frozen=True)
class Handoff:
    """One ``record_handoff``: the room goes to ``to_agent``, with a ``handoff`` event in the same transaction.

    A backend reads the room's row (readable in ``scope``, locked against concurrent writers), calls
    ``event``, sets the active agent, bumps ``handoff_count`` and the state version, and appends the event.
    """

    room_id: str
    to_agent: str
    by_agent: str
    reason: str | None
    scope: Scope | None

    def event(self, room: Room) -> NewEvent:
        """The ``handoff`` event to append to ``room`` (its current row). Raises: PermissionDeniedError
        (namespace not writable in ``scope``)."""
        check_room_writable(self.room_id, room.namespace, self.scope)
        return handoff_event(room, to_agent=self.to_agent, by_agent=self.by_agent, reason=self.reason)


@dataclass(frozen=True)
class StateChange:
    """One ``update_conversation_state``: set ``phase`` and/or ``active_agent`` (``None`` keeps a field).

    A backend runs it in one write transaction: it reads the room's row (readable in ``scope``, locked
    against concurrent writers), calls ``check``, then sets the fields and bumps the state version.
    """

    room_id: str
    phase: str | None
    active_agent: str | None
    expected_version: int | None
    scope: Scope | None

    def check(self, room: Room) -> None:
        """Refuse the change to ``room`` (its current row).

        Raises:
            PermissionDeniedError: its namespace is not writable in ``scope``.
            ConflictError: ``expected_version`` differs from the current state version (carries it).
        """
        check_room_writable(self.room_id, room.namespace, self.scope)
        if self.expected_version is not None and self.expected_version != room.state.version:
            raise stale_state(self.room_id, room.state, self.expected_version)


async def readable_room(reader: Reader, room_id: str, scope: Scope | None) -> Row:
    """The ``rooms`` row of ``room_id`` if its namespace is readable in ``scope``. Raises: NotFoundError."""
    p = reader.PARAMS()
    p.require(f"room_id = {p.add(room_id)}", p.readable("namespace", scope))
    row = await reader._fetch_one(f"SELECT * FROM rooms WHERE {p.sql()}", p.values)
    if row is None:
        raise NotFoundError("room", room_id)
    return row


class RoomQueries(Reader, RoomStore):
    """``RoomStore``'s reads of rooms: one room, and the scoped, paged listing (newest first)."""

    async def get_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        return self.ROWS.room(await readable_room(self, room_id, scope))

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
        """See ``RoomStore.list_rooms``. ``participant``: present in the room (not left); ``identity_id``:
        took part (even if they left) or sent one of its events."""
        p = self.PARAMS()
        p.require(p.readable("namespace", scope))
        if namespaces:
            p.require(p.namespace_in("namespace", list(namespaces)))
        if status is not None:
            p.require(f"status = {p.add(RoomStatus(status).value)}")
        if participant is not None:
            p.require(
                "EXISTS (SELECT 1 FROM participants AS pa WHERE pa.room_id = rooms.room_id"
                f" AND pa.participant_id = {p.add(participant)} AND pa.left_at IS NULL)"
            )
        if identity_id is not None:
            p.require(
                "(EXISTS (SELECT 1 FROM participants AS pa WHERE pa.room_id = rooms.room_id"
                f" AND pa.participant_id = {p.add(identity_id)})"
                " OR EXISTS (SELECT 1 FROM events AS ev WHERE ev.room_id = rooms.room_id"
                f" AND ev.sender_identity_id = {p.add(identity_id)}))"
            )
        return await self._newest_first("rooms", "room_id", p, cursor, limit, self.ROWS.room)

    async def update_conversation_state(
        self,
        room_id: str,
        *,
        phase: str | None = None,
        active_agent: str | None = None,
        expected_version: int | None = None,
        scope: Scope | None = None,
    ) -> ConversationState:
        return await self._change_state(StateChange(room_id, phase, active_agent, expected_version, scope))

    async def record_handoff(
        self,
        room_id: str,
        *,
        to_agent: str,
        by_agent: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> tuple[ConversationState, Event]:
        return await self._hand_off(Handoff(room_id, to_agent, by_agent, reason, scope))

    @abstractmethod
    async def _hand_off(self, handoff: Handoff) -> tuple[ConversationState, Event]:
        """Run ``handoff`` in one write transaction: read the room (readable in ``handoff.scope``; else
        ``NotFoundError``) under the write lock, build ``handoff.event``, update the state and append the
        event (``ConflictError`` when the room is closed); return the new state and the event."""

    @abstractmethod
    async def _change_state(self, change: StateChange) -> ConversationState:
        """Run ``change`` in one write transaction: read the room (readable in ``change.scope``; else
        ``NotFoundError``) under the write lock, ``change.check`` it, set the fields given, bump the state
        version and its ``state_updated_at``; return the new state."""
