"""Rooms: create, read, list, close; conversation state and handoffs.

A room lives in a namespace (default ``shared-rooms``) and is seen only by agents whose policy reads
that namespace; changing it (events, state, handoff, close) needs the namespace to be writable. The
service passes the caller's scope to the store, which applies it in SQL.
"""

from __future__ import annotations

from typing import Any, Literal

from mcp_memory.auth import Principal
from mcp_memory.services.addresses import normalize_channel_type
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import room_events_uri, room_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.results import ChannelBindings, HandoffResult, Participants, RoomPage, RoomStateView
from storage import ConflictError, InvalidInputError, NotFoundError
from storage.models import DEFAULT_ROOM_NAMESPACE, NewRoom, Room, RoomStatus, Sensitivity
from storage.models.rooms import ParticipantKind, check_room_open, check_room_writable

__all__ = ["BindingAction", "ParticipantAction", "RoomService"]

#: What ``RoomService.change_participant`` does: join (or re-join), leave, or change a present one's role.
ParticipantAction = Literal["add", "leave", "set_role"]

#: What ``RoomService.channel_binding`` does with a room's channel bindings.
BindingAction = Literal["add", "list", "update", "remove"]

GROUP = "rooms"
#: The group of room administration: phase and closing, participants, channel bindings.
ADMIN_GROUP = "room_admin"


class RoomService(AuditedArea, area="rooms"):
    """Room life cycle and the conversation state that lives in a room."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def create_room(
        self,
        principal: Principal,
        *,
        name: str | None = None,
        room_id: str | None = None,
        namespace: str | None = None,
        metadata: dict[str, Any] | None = None,
        participants: list[str] | None = None,
    ) -> Room:
        """Create a room in ``namespace`` (default: the caller policy's ``room_namespace``, else
        ``shared-rooms``); the caller and ``participants`` join.

        Raises:
            PermissionDeniedError: the caller may not write ``namespace``.
            ConflictError: ``room_id`` is taken.
        """
        self._ctx.require_group(principal, GROUP)
        store = self._ctx.store
        room = await store.create_room(
            NewRoom(
                room_id=room_id,
                namespace=namespace or principal.room_namespace() or DEFAULT_ROOM_NAMESPACE,
                name=name,
                metadata=metadata or {},
                created_by=principal.agent,
            ),
            scope=principal.scope(),
        )
        for agent in dict.fromkeys([principal.agent, *(participants or [])]):
            await store.add_participant(room.room_id, agent, kind="agent")
        return room

    async def get_room(self, principal: Principal, room_id: str) -> Room:
        """Return a room the caller may read. Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        return await self._as_seen(
            principal, await self._ctx.store.get_room(room_id, scope=principal.scope())
        )

    async def list_rooms(
        self,
        principal: Principal,
        *,
        status: RoomStatus | None = None,
        namespace: str | None = None,
        participant: str | None = None,
        identity_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> RoomPage:
        """List the rooms the caller may read, newest first, one page at a time.

        ``namespace``: a name or ``*`` pattern; ``participant``: someone present in the room;
        ``identity_id``: a person who took part or wrote there (``RoomStore.list_rooms``).

        Raises:
            InvalidInputError: bad cursor.
        """
        self._ctx.require_group(principal, GROUP)
        limit = self._ctx.page_size(limit)
        page = await self._ctx.store.list_rooms(
            status=status,
            namespaces=[namespace] if namespace else None,
            participant=participant,
            identity_id=identity_id,
            limit=limit,
            cursor=cursor,
            scope=principal.scope(),
        )
        rooms = [await self._as_seen(principal, room) for room in page.items]
        return RoomPage(rooms=rooms, next_cursor=page.next_cursor)

    async def close_room(self, principal: Principal, room_id: str) -> Room:
        """Close a room (it then refuses new events). Raises: NotFoundError, PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        return await self._close(principal, room_id)

    async def _close(self, principal: Principal, room_id: str) -> Room:
        room = await self._ctx.store.close_room(room_id, scope=principal.scope())
        await self._ctx.changes.publish(room_uri(room.room_id))
        return await self._as_seen(principal, room)

    async def get_conversation_state(self, principal: Principal, room_id: str) -> RoomStateView:
        """Return the room's conversation state and current participants. Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        return await self._state(principal, room_id)

    async def _state(self, principal: Principal, room_id: str) -> RoomStateView:
        store = self._ctx.store
        room = await self._as_seen(principal, await store.get_room(room_id, scope=principal.scope()))
        participants = await store.list_participants(room_id)
        return RoomStateView(
            room_id=room.room_id,
            status=room.status.value,
            state=room.state,
            participants=participants,
            last_event_index=room.last_event_index,
        )

    async def _as_seen(self, principal: Principal, room: Room) -> Room:
        """``room`` with ``last_event_index`` the index of the newest event the caller may read (0 if none).

        The room row counts every event; a caller below the highest clearance must not learn from it that
        events above its clearance exist (issue 14: a room whose only event is confidential showed 1).
        """
        scope = principal.scope()
        if room.last_event_index == 0 or scope.max_sensitivity == max(Sensitivity, key=lambda s: s.level):
            return room
        newest = await self._ctx.store.list_events(
            room.room_id, before_index=room.last_event_index + 1, limit=1, scope=scope
        )
        return room.model_copy(update={"last_event_index": newest[-1].index if newest else 0})

    async def set_phase(
        self, principal: Principal, room_id: str, phase: str, *, expected_version: int | None = None
    ) -> RoomStateView:
        """Set the conversation phase (``triage``, ``investigating``...).

        Raises:
            NotFoundError: no such room.
            ConflictError: ``expected_version`` is stale.
        """
        self._ctx.require_group(principal, GROUP)
        return await self._set_phase(principal, room_id, phase, expected_version)

    async def _set_phase(
        self, principal: Principal, room_id: str, phase: str, expected_version: int | None
    ) -> RoomStateView:
        try:
            await self._ctx.store.update_conversation_state(
                room_id, phase=phase, expected_version=expected_version, scope=principal.scope()
            )
        except ConflictError as exc:
            raise ConflictError(
                f"the conversation state of room {room_id!r} is at version {exc.current_version}, you sent "
                f"{expected_version}: read it with get_conversation_state and retry",
                current_version=exc.current_version,
                current=exc.current,
            ) from None
        await self._ctx.changes.publish(room_uri(room_id))
        return await self._state(principal, room_id)

    async def handoff(
        self, principal: Principal, room_id: str, to_agent: str, *, reason: str | None = None
    ) -> HandoffResult:
        """Make ``to_agent`` the room's active agent, count the handoff and log it in the timeline.

        Raises:
            NotFoundError: no such room.
            ConflictError: the room is closed.
        """
        self._ctx.require_group(principal, GROUP)
        store = self._ctx.store
        state, event = await store.record_handoff(
            room_id, to_agent=to_agent, by_agent=principal.agent, reason=reason, scope=principal.scope()
        )
        await store.add_participant(room_id, to_agent, kind="agent")
        await self._ctx.changes.publish(room_uri(room_id), room_events_uri(room_id))
        return HandoffResult(state=state, event=event)

    async def update_room(
        self,
        principal: Principal,
        room_id: str,
        *,
        phase: str | None = None,
        expected_version: int | None = None,
        close: bool = False,
    ) -> RoomStateView:
        """Set the conversation phase (with ``set_phase``'s version check), then close the room if asked.

        Raises:
            NotFoundError: no such room. PermissionDeniedError: its namespace is not writable.
            ConflictError: ``expected_version`` is stale.
        """
        self._ctx.require_group(principal, ADMIN_GROUP)
        if phase is not None:
            await self._set_phase(principal, room_id, phase, expected_version)
        if close:
            await self._close(principal, room_id)
        return await self._state(principal, room_id)

    async def change_participant(
        self,
        principal: Principal,
        room_id: str,
        action: ParticipantAction,
        participant_id: str,
        *,
        kind: ParticipantKind = "agent",
        role: str | None = None,
    ) -> Participants:
        """Add someone to a room (a human joining, an agent, a customer identity), mark them as having left,
        or change a present participant's role. Returns every participant, those who left included.

        Raises:
            NotFoundError: no such room, or (leave, set_role) no such present participant.
            PermissionDeniedError: the room's namespace is not writable for the caller.
            ConflictError: adding to a closed room.
        """
        room = await self._writable_room(principal, room_id)
        store = self._ctx.store
        if action == "add":
            check_room_open(room.room_id, room.status)
            await store.add_participant(room_id, participant_id, kind=kind, role=role)
        else:
            present = {p.participant_id: p for p in await store.list_participants(room_id)}
            current = present.get(participant_id)
            if current is None:
                raise NotFoundError(
                    f"participant of room {room_id!r} (present: {', '.join(present)})", participant_id
                )
            if action == "leave":
                await store.remove_participant(room_id, participant_id)
            else:
                await store.add_participant(room_id, participant_id, kind=current.kind, role=role)
        await self._ctx.changes.publish(room_uri(room_id))
        everyone = await store.list_participants(room_id, include_left=True)
        return Participants(room_id=room_id, participants=everyone)

    async def channel_binding(
        self,
        principal: Principal,
        room_id: str,
        action: BindingAction,
        *,
        channel_id: str | None = None,
        channel_type: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> ChannelBindings:
        """List a room's channel bindings, or add, update (replace the config of) or remove one.

        Returns the room's bindings after the action, oldest first.

        Raises:
            InvalidInputError: ``channel_id`` missing (add, update, remove), or ``channel_type`` (add).
            NotFoundError: no such room, or no such binding (update, remove).
            PermissionDeniedError: a change in a room whose namespace is not writable for the caller.
            ConflictError: the channel is already bound to the room (add).
        """
        self._ctx.require_group(principal, ADMIN_GROUP)
        store = self._ctx.store
        if action == "list":
            await store.get_room(room_id, scope=principal.scope())
        else:
            await self._writable_room(principal, room_id)
            if channel_id is None:
                raise InvalidInputError(f"action {action!r} needs channel_id")
            if action == "add":
                if channel_type is None:
                    raise InvalidInputError("action 'add' needs channel_type (sms, email, web...)")
                await store.add_channel_binding(
                    room_id, channel_id, normalize_channel_type(channel_type), config or {}
                )
            elif action == "update":
                await store.update_channel_binding(room_id, channel_id, config or {})
            else:
                await store.remove_channel_binding(room_id, channel_id)
            await self._ctx.changes.publish(room_uri(room_id))
        return ChannelBindings(room_id=room_id, bindings=await store.list_channel_bindings(room_id))

    async def _writable_room(self, principal: Principal, room_id: str) -> Room:
        """The room, when the caller may change it. Raises: NotFoundError, PermissionDeniedError."""
        self._ctx.require_group(principal, ADMIN_GROUP)
        scope = principal.scope()
        room = await self._ctx.store.get_room(room_id, scope=scope)
        check_room_writable(room.room_id, room.namespace, scope)
        return room
