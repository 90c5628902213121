"""Tasks: create, claim (atomic), update with optimistic concurrency, list.

A task lives in a namespace (by default its room's, else ``shared-tasks``) and is read and changed under
the caller's policy like a room: the store applies the caller's scope (hidden tasks look missing)."""

from __future__ import annotations

from typing import Any, TypeVar

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import task_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.results import TaskPage
from storage import ConflictError
from storage.models import NewTask, TaskRecord, TaskStatus, TaskUpdate

__all__ = ["TaskService"]

TaskT = TypeVar("TaskT", NewTask, TaskUpdate)

GROUP = "tasks"


class TaskService(AuditedArea, area="tasks"):
    """Work items shared by the team."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def create_task(
        self,
        principal: Principal,
        title: str,
        *,
        description: str = "",
        priority: int = 1,
        assignee: str | None = None,
        room_id: str | None = None,
        namespace: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> TaskRecord:
        """Create a task (open, or claimed when an assignee is given) in ``namespace`` (default: the room's,
        else ``shared-tasks``).

        Raises:
            NotFoundError: ``room_id`` names no room the caller reads.
            PermissionDeniedError: the caller may not write the task's namespace.
        """
        self._ctx.require_group(principal, GROUP)
        task = NewTask(
            title=title,
            description=description,
            priority=priority,
            assignee=assignee,
            room_id=room_id,
            namespace=namespace,
            metadata=metadata or {},
            created_by=principal.agent,
        )
        return await self._ctx.store.create_task(_sealed_task(self._ctx, task), scope=principal.scope())

    async def get_task(self, principal: Principal, task_id: str) -> TaskRecord:
        """Return a task the caller may read. Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        return await self._ctx.store.get_task(task_id, scope=principal.scope())

    async def claim_task(
        self, principal: Principal, task_id: str, *, expected_version: int | None = None
    ) -> TaskRecord:
        """Claim an open task for the caller; exactly one of several racing claims wins.

        Raises:
            NotFoundError: no such task.
            ConflictError: someone else holds it, it is not open, or the version is stale.
        """
        self._ctx.require_group(principal, GROUP)
        try:
            task = await self._ctx.store.claim_task(
                task_id, principal.agent, expected_version=expected_version, scope=principal.scope()
            )
        except ConflictError as exc:
            current = exc.current if isinstance(exc.current, TaskRecord) else None
            if current is not None and current.assignee and current.assignee != principal.agent:
                message = (
                    f"task {task_id} is already claimed by {current.assignee} (status {current.status.value}, "
                    f"version {current.version}): pick another task or coordinate with {current.assignee}"
                )
            elif current is not None:
                message = (
                    f"task {task_id} cannot be claimed: it is {current.status.value} at version "
                    f"{current.version}" + (f" and you sent {expected_version}" if expected_version else "")
                )
            else:
                message = exc.message
            raise ConflictError(message, current_version=exc.current_version, current=exc.current) from None
        await self._ctx.changes.publish(task_uri(task.task_id))
        return task

    async def update_task(
        self, principal: Principal, task_id: str, update: TaskUpdate, *, expected_version: int
    ) -> TaskRecord:
        """Change a task if it is still at ``expected_version``.

        Raises:
            NotFoundError: no such task.
            ConflictError: the task changed since the caller read it (carries the current version).
        """
        self._ctx.require_group(principal, GROUP)
        try:
            task = await self._ctx.store.update_task(
                task_id,
                _sealed_task(self._ctx, update),
                expected_version=expected_version,
                scope=principal.scope(),
            )
        except ConflictError as exc:
            raise ConflictError(
                f"task {task_id} is at version {exc.current_version}, you sent {expected_version}: "
                "re-read it (list_tasks or memory://tasks/{id}) and retry with the current version",
                current_version=exc.current_version,
                current=exc.current,
            ) from None
        await self._ctx.changes.publish(task_uri(task.task_id))
        return task

    async def list_tasks(
        self,
        principal: Principal,
        *,
        status: list[TaskStatus] | None = None,
        assignee: str | None = None,
        room_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> TaskPage:
        """List tasks, most urgent first, one page at a time."""
        self._ctx.require_group(principal, GROUP)
        limit = self._ctx.page_size(limit)
        page = await self._ctx.store.list_tasks(
            status=status,
            assignee=assignee,
            room_id=room_id,
            limit=limit,
            cursor=cursor,
            scope=principal.scope(),
        )
        return TaskPage(tasks=page.items, next_cursor=page.next_cursor)


def _sealed_task(ctx: ServiceContext, task: TaskT) -> TaskT:
    """``task`` (validated plain) with its title and description sealed when the tenant has a key."""
    changes = {
        name: ctx.sealer.seal_text(text, kind="task")
        for name in ("title", "description")
        if isinstance(text := getattr(task, name), str)
    }
    return task.model_copy(update=changes)
