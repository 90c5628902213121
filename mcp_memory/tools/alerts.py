"""Alert tools: send an alert to agents, read your inbox, acknowledge an alert.

The service publishes inbox changes as resource updates of ``memory://agents/{agent}/inbox``.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.alerts import InboxPage
from mcp_memory.tools._common import READ, WRITE, WRITE_IDEMPOTENT, Cursor, caller, page_limit
from storage.models import Alert, AlertSeverity, InboxItem

AlertId = Annotated[str, Field(description="The alert's alert_id.", max_length=128)]


def register(server: MCPServer[Any]) -> None:
    """Register the alert tools on ``server``."""

    @server.tool(annotations=WRITE)
    async def send_alert(
        ctx: Context[Any, Any],
        to_agents: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=128)]],
            Field(description="Agent names to notify.", min_length=1, max_length=100),
        ],
        message: Annotated[
            str, Field(description="What they must know or do.", min_length=1, max_length=4000)
        ],
        severity: Annotated[
            AlertSeverity, Field(description="info, warning or critical.")
        ] = AlertSeverity.INFO,
        room_id: Annotated[str | None, Field(description="The room it is about.", max_length=128)] = None,
    ) -> Alert:
        """Warn other agents now (e.g. "client budget cut, all deals on hold"); it lands in their inboxes."""
        service, me = caller(ctx)
        return await service.alerts.send_alert(me, to_agents, message, severity=severity, room_id=room_id)

    @server.tool(annotations=READ)
    async def read_inbox(
        ctx: Context[Any, Any],
        include_acked: Annotated[bool, Field(description="Also alerts you already acknowledged.")] = False,
        limit: Annotated[int, page_limit(50)] = 20,
        cursor: Cursor = None,
    ) -> InboxPage:
        """Read alerts other agents sent you, newest first; acknowledge each with ack_alert."""
        service, me = caller(ctx)
        return await service.alerts.read_inbox(me, unacked_only=not include_acked, limit=limit, cursor=cursor)

    @server.tool(annotations=WRITE_IDEMPOTENT)
    async def ack_alert(ctx: Context[Any, Any], alert_id: AlertId) -> InboxItem:
        """Mark an alert from your inbox as handled so it no longer shows as new."""
        service, me = caller(ctx)
        return await service.alerts.ack_alert(me, alert_id)
