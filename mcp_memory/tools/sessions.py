"""Session tools (group ``sessions``): open a working session with a namespace and metadata, read it."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.tools._common import READ, WRITE, Metadata, caller
from storage.models import Session


def register(server: MCPServer[Any]) -> None:
    """Register the session tools on ``server``."""

    @server.tool(annotations=WRITE)
    async def create_session(
        ctx: Context[Any, Any],
        namespace: Annotated[
            str | None,
            Field(description="Where it and its memories live; default: your agent-<name>.", max_length=128),
        ] = None,
        metadata: Metadata = None,
        session_id: Annotated[
            str | None, Field(description="Your own id; generated when omitted.", max_length=128)
        ] = None,
    ) -> Session:
        """Open a working session; pass its session_id to remember, search_memory and list_memories."""
        service, me = caller(ctx)
        return await service.memories.create_session(
            me, namespace=namespace, metadata=metadata, session_id=session_id
        )

    @server.tool(annotations=READ)
    async def get_session(
        ctx: Context[Any, Any],
        session_id: Annotated[str, Field(description="The session id.", max_length=128)],
    ) -> Session:
        """Read a session's namespace and metadata."""
        service, me = caller(ctx)
        return await service.memories.get_session(me, session_id)
