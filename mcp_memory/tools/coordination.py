"""Coordination metrics tool: operators see how well the team hands work around."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.coordination import CoordinationStats, Grouping
from mcp_memory.tools._common import READ, caller


def register(server: MCPServer[Any]) -> None:
    """Register the coordination metrics tool on ``server``."""

    @server.tool(annotations=READ)
    async def get_coordination_stats(
        ctx: Context[Any, Any],
        by: Annotated[Grouping, Field(description="Group by agent, room or ISO week.")] = "agent",
        since: Annotated[
            datetime | None, Field(description="Only items created from this time (UTC ISO 8601).")
        ] = None,
    ) -> CoordinationStats:
        """Operators: task completion time, rework rate (reopened or re-claimed) and escalation rate."""
        service, me = caller(ctx)
        return await service.coordination.stats(me, by=by, since=since)
