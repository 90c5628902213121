"""Escalation tools: hand a case to a human with everything they need."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.escalations import summarize
from mcp_memory.services.results import EscalationPage, EscalationSummary
from mcp_memory.tools._common import READ, WRITE, Cursor, caller, page_limit
from storage.models import EscalationStatus

EscalationId = Annotated[str, Field(description="The escalation's escalation_id.", max_length=128)]


def register(server: MCPServer[Any]) -> None:
    """Register the escalation tools on ``server``."""

    @server.tool(annotations=WRITE)
    async def escalate(
        ctx: Context[Any, Any],
        reason: Annotated[
            str, Field(description="What the human must decide or do.", min_length=1, max_length=4000)
        ],
        room_id: Annotated[
            str | None, Field(description="The room (default: the task's).", max_length=128)
        ] = None,
        task_id: Annotated[
            str | None,
            Field(description="Escalate this task too.", max_length=128),
        ] = None,
        queue: Annotated[
            str | None, Field(description="Human queue, e.g. billing-supervisors.", max_length=128)
        ] = None,
        assignee: Annotated[
            str | None, Field(description="A named human, if you know who.", max_length=128)
        ] = None,
        priority: Annotated[int, Field(description="0 low, 1 normal, 2 high, 3 urgent.", ge=0, le=3)] = 2,
    ) -> EscalationSummary:
        """Hand a room or task to a human; its timeline, notes, tasks and customer are packaged for them."""
        service, me = caller(ctx)
        escalation = await service.escalations.escalate(
            me, room_id, reason, task_id=task_id, queue=queue, assignee=assignee, priority=priority
        )
        return summarize(escalation)

    @server.tool(annotations=READ)
    async def list_escalations(
        ctx: Context[Any, Any],
        status: Annotated[
            list[EscalationStatus] | None, Field(description="Only these, e.g. ['open'].")
        ] = None,
        room_id: Annotated[str | None, Field(description="Only this room's.", max_length=128)] = None,
        queue: Annotated[str | None, Field(description="Only this queue's.", max_length=128)] = None,
        limit: Annotated[int, page_limit(50)] = 20,
        cursor: Cursor = None,
    ) -> EscalationPage:
        """List escalations, newest first; read memory://escalations/{id} for a full handoff package."""
        service, me = caller(ctx)
        return await service.escalations.list_escalations(
            me, status=status, room_id=room_id, queue=queue, limit=limit, cursor=cursor
        )

    @server.tool(annotations=WRITE)
    async def acknowledge_escalation(
        ctx: Context[Any, Any], escalation_id: EscalationId
    ) -> EscalationSummary:
        """Take an open escalation (status becomes acknowledged) so others see a human is on it."""
        service, me = caller(ctx)
        return summarize(await service.escalations.acknowledge(me, escalation_id))

    @server.tool(annotations=WRITE)
    async def resolve_escalation(
        ctx: Context[Any, Any],
        escalation_id: EscalationId,
        resolution: Annotated[
            str, Field(description="What was decided or done.", min_length=1, max_length=4000)
        ],
    ) -> EscalationSummary:
        """Close an escalation with its resolution (for humans or supervisors allowed to resolve)."""
        service, me = caller(ctx)
        return summarize(await service.escalations.resolve(me, escalation_id, resolution))
