"""Room tools: create, list, update (phase, close) a room, read its conversation state, hand it to another
agent, and manage its participants and channel bindings (one tool per object, with an ``action``)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import ChannelBindings, HandoffResult, Participants, RoomPage, RoomStateView
from mcp_memory.services.rooms import BindingAction, ParticipantAction
from mcp_memory.tools._common import READ, WRITE, caller
from storage.models import Room, RoomStatus
from storage.models.rooms import ParticipantKind

AgentName = Annotated[str, Field(min_length=1, max_length=128)]
RoomId = Annotated[str, Field(description="The room id.", max_length=128)]


def register(server: MCPServer[Any]) -> None:
    """Register the room tools on ``server``."""

    @server.tool(annotations=WRITE)
    async def create_room(
        ctx: Context[Any, Any],
        name: Annotated[
            str | None, Field(description="Human-readable title, e.g. 'Order 1182 refund'.", max_length=200)
        ] = None,
        room_id: Annotated[
            str | None, Field(description="Your own id for the room; generated when omitted.", max_length=128)
        ] = None,
        namespace: Annotated[
            str | None,
            Field(description="Who may see it, e.g. rooms-billing; default shared-rooms.", max_length=128),
        ] = None,
        participants: Annotated[
            list[AgentName] | None, Field(description="Other agents to add.", max_length=50)
        ] = None,
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Free JSON metadata, e.g. {'order_id': '1182'}.")
        ] = None,
    ) -> Room:
        """Open a room for a new conversation or case. Returns the room with its id; you join it."""
        service, me = caller(ctx)
        return await service.rooms.create_room(
            me, name=name, room_id=room_id, namespace=namespace, participants=participants, metadata=metadata
        )

    @server.tool(annotations=READ)
    async def get_conversation_state(
        ctx: Context[Any, Any], room_id: Annotated[str, Field(max_length=128)]
    ) -> RoomStateView:
        """Read who is handling a room now (active agent, phase, handoff count) and who takes part."""
        service, me = caller(ctx)
        return await service.rooms.get_conversation_state(me, room_id)

    @server.tool(annotations=WRITE)
    async def handoff(
        ctx: Context[Any, Any],
        room_id: Annotated[str, Field(max_length=128)],
        to_agent: Annotated[AgentName, Field(description="The agent that takes over the conversation.")],
        reason: Annotated[
            str | None, Field(description="Why, for the next agent to read.", max_length=2000)
        ] = None,
    ) -> HandoffResult:
        """Hand a room's conversation to another agent: sets the active agent and logs a handoff event."""
        service, me = caller(ctx)
        return await service.rooms.handoff(me, room_id, to_agent, reason=reason)

    @server.tool(annotations=READ)
    async def list_rooms(
        ctx: Context[Any, Any],
        namespace: Annotated[
            str | None, Field(description="Name or pattern, e.g. rooms-billing or shared-*.", max_length=128)
        ] = None,
        status: Annotated[RoomStatus | None, Field(description="open or closed.")] = None,
        participant: Annotated[
            str | None, Field(description="Rooms this agent or human is in now.", max_length=128)
        ] = None,
        identity_id: Annotated[
            str | None, Field(description="Rooms where this person took part or wrote.", max_length=128)
        ] = None,
        limit: Annotated[int, Field(description="Page size.", ge=1, le=50)] = 20,
        cursor: Annotated[
            str | None, Field(description="next_cursor of the previous page.", max_length=500)
        ] = None,
    ) -> RoomPage:
        """List rooms you can see, newest first, by namespace, status, participant or customer identity."""
        service, me = caller(ctx)
        return await service.rooms.list_rooms(
            me,
            status=status,
            namespace=namespace,
            participant=participant,
            identity_id=identity_id,
            limit=limit,
            cursor=cursor,
        )

    @server.tool(annotations=WRITE)
    async def update_room(
        ctx: Context[Any, Any],
        room_id: RoomId,
        phase: Annotated[
            str | None,
            Field(description="New conversation phase, e.g. triage, waiting_customer.", max_length=64),
        ] = None,
        expected_version: Annotated[
            int | None, Field(description="State version you read; a stale one changes nothing.", ge=1)
        ] = None,
        close: Annotated[bool, Field(description="Close the room: it then refuses new events.")] = False,
    ) -> RoomStateView:
        """Set a room's conversation phase and/or close it. Returns the new state."""
        service, me = caller(ctx)
        return await service.rooms.update_room(
            me, room_id, phase=phase, expected_version=expected_version, close=close
        )

    @server.tool(annotations=WRITE)
    async def manage_participant(
        ctx: Context[Any, Any],
        room_id: RoomId,
        action: Annotated[
            ParticipantAction, Field(description="add (join, e.g. a human), leave, or set_role.")
        ],
        participant_id: Annotated[
            str, Field(description="Agent or human name, or identity id.", min_length=1, max_length=128)
        ],
        kind: Annotated[ParticipantKind, Field(description="For add: agent, human or identity.")] = "agent",
        role: Annotated[
            str | None, Field(description="e.g. customer, supervisor; for add and set_role.", max_length=64)
        ] = None,
    ) -> Participants:
        """Add someone to a room, mark them as left, or change their role. Returns all participants."""
        service, me = caller(ctx)
        return await service.rooms.change_participant(
            me, room_id, action, participant_id, kind=kind, role=role
        )

    @server.tool(annotations=WRITE)
    async def manage_channel_binding(
        ctx: Context[Any, Any],
        room_id: RoomId,
        action: Annotated[BindingAction, Field(description="list, add, update (replace config) or remove.")],
        channel_id: Annotated[
            str | None,
            Field(description="The channel: phone number, thread id... (not for list).", max_length=200),
        ] = None,
        channel_type: Annotated[
            str | None, Field(description="For add: sms, email, web...", max_length=32)
        ] = None,
        config: Annotated[
            dict[str, Any] | None, Field(description="Per-binding settings, e.g. {'reply_from': '+1555...'}.")
        ] = None,
    ) -> ChannelBindings:
        """List a room's channel bindings, or add, update or remove one. Returns the room's bindings."""
        service, me = caller(ctx)
        return await service.rooms.channel_binding(
            me, room_id, action, channel_id=channel_id, channel_type=channel_type, config=config
        )
