"""Retention tool: apply the team's retention rules (time-to-live, max memories) to your namespaces."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.retention import PruneReport
from mcp_memory.tools._common import DESTRUCTIVE, caller


def register(server: MCPServer[Any]) -> None:
    """Register the retention tool on ``server``."""

    @server.tool(annotations=DESTRUCTIVE)
    async def prune_memories(
        ctx: Context[Any, Any],
        dry_run: Annotated[bool, Field(description="Only report what would be removed.")] = True,
    ) -> PruneReport:
        """Remove memories your team's retention rules no longer keep, in namespaces you may write."""
        service, me = caller(ctx)
        return await service.retention.prune_memories(me, dry_run=dry_run)
