"""Audit tool: operators read the append-only log of tool calls and resource reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.audit import AuditPage
from mcp_memory.tools._common import READ, Cursor, caller, page_limit
from storage import AuditFilter, AuditOutcome


def register(server: MCPServer[Any]) -> None:
    """Register the audit tool on ``server``."""

    @server.tool(annotations=READ)
    async def query_audit_log(
        ctx: Context[Any, Any],
        agent: Annotated[str | None, Field(description="Only calls by this agent.", max_length=128)] = None,
        tool: Annotated[
            str | None, Field(description="Only this tool name or resource URI.", max_length=512)
        ] = None,
        item_id: Annotated[
            str | None, Field(description="Only calls that touched this id.", max_length=128)
        ] = None,
        outcome: Annotated[
            AuditOutcome | None, Field(description="Only calls that ended ok or in an error.")
        ] = None,
        kind: Annotated[
            Literal["tool", "resource"] | None, Field(description="Only tool calls or only resource reads.")
        ] = None,
        since: Annotated[datetime | None, Field(description="From this time (UTC ISO 8601).")] = None,
        limit: Annotated[int, page_limit(100)] = 20,
        cursor: Cursor = None,
    ) -> AuditPage:
        """Operators: see who called which tool or read which resource, newest first (audit log)."""
        service, me = caller(ctx)
        filters = AuditFilter(
            agent=agent, name=tool, item_id=item_id, outcome=outcome, kind=kind, since=since
        )
        return await service.audit.query(me, filters, limit=limit, cursor=cursor)
