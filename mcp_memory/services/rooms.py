"""Rooms: create, read, list, close; conversation state and handoffs.

A room lives in a namespace (default ``shared-rooms``) and is seen only by agents whose policy reads
that namespace; changing it (events, state, handoff, close) needs the namespace to be writable. The
service passes the caller's scope to the store, which applies it in SQL.
"""

from __future__ import annotations

from typing import Any

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import room_events_uri, room_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.results import HandoffResult, RoomPage, RoomStateView
from storage import ConflictError
from storage.models import DEFAULT_ROOM_NAMESPACE, NewRoom, Room, RoomStatus, Sensitivity

__all__ = ["RoomService"]

GROUP = "rooms"


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
        limit: int = 20,
        cursor: str | None = None,
    ) -> RoomPage:
        """List the rooms the caller may read, newest first, one page at a time."""
        self._ctx.require_group(principal, GROUP)
        limit = self._ctx.page_size(limit)
        page = await self._ctx.store.list_rooms(
            status=status, limit=limit, cursor=cursor, scope=principal.scope()
        )
        rooms = [await self._as_seen(principal, room) for room in page.items]
        return RoomPage(rooms=rooms, next_cursor=page.next_cursor)

    async def close_room(self, principal: Principal, room_id: str) -> Room:
        """Close a room (it then refuses new events). Raises: NotFoundError, PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        room = await self._ctx.store.close_room(room_id, scope=principal.scope())
        await self._ctx.changes.publish(room_uri(room.room_id))
        return await self._as_seen(principal, room)

    async def get_conversation_state(self, principal: Principal, room_id: str) -> RoomStateView:
        """Return the room's conversation state and current participants. Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
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
        return await self.get_conversation_state(principal, room_id)

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
