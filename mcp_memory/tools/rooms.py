"""Room tools: create and list rooms, read a room's conversation state, hand it to another agent (the
administration of rooms is in ``room_admin``)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import HandoffResult, RoomPage, RoomStateView
from mcp_memory.tools._common import READ, WRITE, Cursor, RoomId, caller, page_limit
from storage.models import Room, RoomStatus

AgentName = Annotated[str, Field(min_length=1, max_length=128)]


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
            Field(
                description="Who may see it, e.g. rooms-billing; default: your policy's room namespace.",
                max_length=128,
            ),
        ] = None,
        participants: Annotated[
            list[AgentName] | None, Field(description="Other agents to add.", max_length=50)
        ] = None,
        metadata: Annotated[
            dict[str, Any] | None,
            Field(description='Your own JSON keys, e.g. {"order_id": "1182"}.'),
        ] = None,
    ) -> Room:
        """Open a room for a new conversation or case. Returns the room with its id; you join it."""
        service, me = caller(ctx)
        return await service.rooms.create_room(
            me, name=name, room_id=room_id, namespace=namespace, participants=participants, metadata=metadata
        )

    @server.tool(annotations=READ)
    async def get_conversation_state(ctx: Context[Any, Any], room_id: RoomId) -> RoomStateView:
        """Read who handles a room now (active agent, phase, handoff count) and who takes part."""
        service, me = caller(ctx)
        return await service.rooms.get_conversation_state(me, room_id)

    @server.tool(annotations=WRITE)
    async def handoff(
        ctx: Context[Any, Any],
        room_id: RoomId,
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
        limit: Annotated[int, page_limit(50)] = 20,
        cursor: Cursor = None,
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
