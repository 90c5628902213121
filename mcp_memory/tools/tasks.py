"""Task tools: create, claim, update, list."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import TaskPage
from mcp_memory.tools._common import MAX_SQL_INTEGER, READ, WRITE, Cursor, Metadata, caller, page_limit
from storage.models import TaskRecord, TaskStatus, TaskUpdate

TaskId = Annotated[str, Field(description="The task's task_id.", max_length=128)]
Priority = Annotated[int, Field(description="0 low, 1 normal, 2 high, 3 urgent.", ge=0, le=3)]


def register(server: MCPServer[Any]) -> None:
    """Register the task tools on ``server``."""

    @server.tool(annotations=WRITE)
    async def create_task(
        ctx: Context[Any, Any],
        title: Annotated[
            str, Field(description="The work to do, in one line.", min_length=1, max_length=300)
        ],
        description: Annotated[
            str, Field(description="Details: context, what done looks like.", max_length=20_000)
        ] = "",
        priority: Priority = 1,
        room_id: Annotated[
            str | None, Field(description="The conversation it belongs to.", max_length=128)
        ] = None,
        assignee: Annotated[
            str | None, Field(description="Assign now instead of letting someone claim it.", max_length=128)
        ] = None,
        namespace: Annotated[
            str | None,
            Field(
                description="Who may see and change it; default: the room's, else shared-tasks.",
                max_length=128,
            ),
        ] = None,
        metadata: Metadata = None,
    ) -> TaskRecord:
        """Create a work item for the team; it stays open until an agent claims it."""
        service, me = caller(ctx)
        return await service.tasks.create_task(
            me,
            title,
            description=description,
            priority=priority,
            room_id=room_id,
            assignee=assignee,
            namespace=namespace,
            metadata=metadata,
        )

    @server.tool(annotations=WRITE)
    async def claim_task(
        ctx: Context[Any, Any],
        task_id: TaskId,
        expected_version: Annotated[
            int | None,
            Field(description="Fail if the task changed since you read it.", ge=1, le=MAX_SQL_INTEGER),
        ] = None,
    ) -> TaskRecord:
        """Take an open task for yourself. Only one agent can win a claim; the others get an error."""
        service, me = caller(ctx)
        return await service.tasks.claim_task(me, task_id, expected_version=expected_version)

    @server.tool(annotations=WRITE)
    async def update_task(
        ctx: Context[Any, Any],
        task_id: TaskId,
        expected_version: Annotated[
            int,
            Field(
                description="The version you last read; stale versions are refused.", ge=1, le=MAX_SQL_INTEGER
            ),
        ],
        status: Annotated[
            TaskStatus | None, Field(description="open, claimed, in_progress, done or cancelled.")
        ] = None,
        title: Annotated[str | None, Field(description="New title.", min_length=1, max_length=300)] = None,
        description: Annotated[str | None, Field(description="New description.", max_length=20_000)] = None,
        priority: Priority | None = None,
        assignee: Annotated[str | None, Field(description="Agent to assign it to.", max_length=128)] = None,
        metadata: Metadata = None,
    ) -> TaskRecord:
        """Change a task's status, priority, assignee or text; needs the version you last read."""
        service, me = caller(ctx)
        update = TaskUpdate(
            status=status,
            title=title,
            description=description,
            priority=priority,
            assignee=assignee,
            metadata=metadata,
        )
        return await service.tasks.update_task(me, task_id, update, expected_version=expected_version)

    @server.tool(annotations=READ)
    async def list_tasks(
        ctx: Context[Any, Any],
        status: Annotated[list[TaskStatus] | None, Field(description="Only these, e.g. ['open'].")] = None,
        assignee: Annotated[
            str | None, Field(description="Only tasks of this agent.", max_length=128)
        ] = None,
        room_id: Annotated[str | None, Field(description="Only this room's tasks.", max_length=128)] = None,
        limit: Annotated[int, page_limit(50)] = 20,
        cursor: Cursor = None,
    ) -> TaskPage:
        """List tasks, most urgent first, filtered by status, assignee or room."""
        service, me = caller(ctx)
        return await service.tasks.list_tasks(
            me, status=status, assignee=assignee, room_id=room_id, limit=limit, cursor=cursor
        )
