"""Identity administration tools (group ``identity_admin``): undo a wrong address link, merge a person
found twice."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.tools._common import WRITE, WRITE_IDEMPOTENT, caller
from mcp_memory.tools.identities import AddressText, ChannelType
from storage.models import Identity


def register(server: MCPServer[Any]) -> None:
    """Register the identity administration tools on ``server``."""

    @server.tool(annotations=WRITE_IDEMPOTENT)
    async def unlink_address(
        ctx: Context[Any, Any], channel_type: ChannelType, address: AddressText
    ) -> Identity:
        """Detach an address wrongly linked to a person; returns that person. Its next message makes a new one."""
        service, me = caller(ctx)
        return await service.identities.unlink_address(me, channel_type, address)

    @server.tool(annotations=WRITE)
    async def merge_identities(
        ctx: Context[Any, Any],
        source_id: Annotated[
            str, Field(description="The duplicate identity; it is deleted.", max_length=128)
        ],
        into_id: Annotated[str, Field(description="The identity that remains.", max_length=128)],
    ) -> Identity:
        """Merge two identities of one person: addresses, rooms and messages move to into_id."""
        service, me = caller(ctx)
        return await service.identities.merge_identities(me, source_id, into_id)
