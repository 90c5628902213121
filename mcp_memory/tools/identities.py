"""Identity tools: one person across channels, and their history across rooms."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import CustomerHistory, ResolvedIdentity
from mcp_memory.tools._common import READ, WRITE_IDEMPOTENT, Cursor, caller
from storage.models import Identity

ChannelType = Annotated[str, Field(description="sms, email, whatsapp, web, ...", min_length=1, max_length=32)]
AddressText = Annotated[
    str, Field(description="Phone number, email address, handle...", min_length=1, max_length=320)
]


def register(server: MCPServer[Any]) -> None:
    """Register the identity tools on ``server``."""

    @server.tool(annotations=WRITE_IDEMPOTENT)
    async def resolve_identity(
        ctx: Context[Any, Any],
        channel_type: ChannelType,
        address: AddressText,
        display_name: Annotated[
            str | None, Field(description="Their name, if known.", max_length=200)
        ] = None,
    ) -> ResolvedIdentity:
        """Find the person behind a channel address (created on first contact), with their addresses."""
        service, me = caller(ctx)
        return await service.identities.resolve_identity(me, channel_type, address, display_name=display_name)

    @server.tool(annotations=WRITE_IDEMPOTENT)
    async def link_address(
        ctx: Context[Any, Any],
        identity_id: Annotated[str, Field(description="The person's identity_id.", max_length=128)],
        channel_type: ChannelType,
        address: AddressText,
    ) -> Identity:
        """Record that a known person also uses another address (e.g. their email after an SMS)."""
        service, me = caller(ctx)
        return await service.identities.link_address(me, identity_id, channel_type, address)

    @server.tool(annotations=READ)
    async def get_customer_history(
        ctx: Context[Any, Any],
        identity_id: Annotated[
            str | None, Field(description="The person's identity_id.", max_length=128)
        ] = None,
        channel_type: Annotated[
            str | None,
            Field(description="Or: their channel (sms, email...).", max_length=32),
        ] = None,
        address: Annotated[str | None, Field(description="Their address there.", max_length=320)] = None,
        events_per_room: Annotated[int, Field(description="Events per room.", ge=0, le=20)] = 5,
        limit: Annotated[int, Field(description="Rooms per page.", ge=1, le=20)] = 5,
        cursor: Cursor = None,
    ) -> CustomerHistory:
        """A person's past conversations on every channel: rooms newest first, recent events, open work."""
        service, me = caller(ctx)
        return await service.identities.customer_history(
            me,
            identity_id=identity_id,
            channel_type=channel_type,
            address=address,
            events_per_room=events_per_room,
            limit=limit,
            cursor=cursor,
        )
