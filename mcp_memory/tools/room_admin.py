"""Room administration tools (group ``room_admin``): set a room's phase or close it, manage who takes part
and which channels are bound (one tool per object, with an ``action``)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import ChannelBindings, Participants, RoomStateView
from mcp_memory.services.rooms import BindingAction, ParticipantAction
from mcp_memory.tools._common import WRITE, RoomId, caller
from storage.models.rooms import ParticipantKind


def register(server: MCPServer[Any]) -> None:
    """Register the room administration tools on ``server``."""

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
