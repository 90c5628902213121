"""Tasks: optimistic concurrency (``version``) and an atomic claim (compare-and-set in one UPDATE)."""

from __future__ import annotations

from storage.errors import NotFoundError
from storage.models import NewTask, TaskRecord, TaskStatus, TaskUpdate, new_id, utc_now
from storage.models.tasks import (
    check_claim,
    check_task_visible,
    check_task_writable,
    stale_task,
    task_changes,
    task_namespace,
)
from storage.postgres.core import PostgresCore
from storage.postgres.events import fetch_room_row
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.queries.tasks import TaskQueries
from storage.scope import Scope

__all__ = ["PostgresTasks"]


class PostgresTasks(TaskQueries, PostgresCore):
    """Tasks' writes: create, versioned update, atomic claim (the reads are ``TaskQueries``)."""

    async def create_task(self, task: NewTask, *, scope: Scope | None = None) -> TaskRecord:
        """Create a task (``open``, or ``claimed`` when an assignee is given; version 1) in its namespace.

        Raises: NotFoundError (room), PermissionDeniedError (namespace not writable).
        """
        now = utc_now()
        status = TaskStatus.CLAIMED if task.assignee else TaskStatus.OPEN
        async with self._transaction() as conn:
            room_namespace = None
            if task.room_id is not None:
                room_namespace = (await fetch_room_row(conn, task.room_id, scope=scope))["namespace"]
            namespace = task_namespace(task, room_namespace)
            check_task_writable(namespace, scope, what=f"tasks in namespace {namespace!r}")
            row = await conn.fetchrow(
                "INSERT INTO tasks (task_id, title, description, status, priority, assignee, room_id,"
                " metadata, created_by, version, created_at, updated_at, namespace)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10, $11) RETURNING *",
                new_id("task"),
                task.title,
                task.description,
                str(status),
                task.priority,
                task.assignee,
                task.room_id,
                task.metadata,
                task.created_by,
                now,
                namespace,
            )
        return ROWS.task(row)

    async def update_task(
        self, task_id: str, update: TaskUpdate, *, expected_version: int, scope: Scope | None = None
    ) -> TaskRecord:
        """Apply ``update`` if the task is at ``expected_version``; the version grows by one.

        Raises:
            NotFoundError: no such task (or hidden from the scope).
            PermissionDeniedError: the scope does not write the task's namespace.
            ConflictError: the task is at another version (``current_version`` and ``current`` carry it).
        """
        async with self._transaction() as conn:
            row = await conn.fetchrow("SELECT * FROM tasks WHERE task_id = $1 FOR UPDATE", task_id)
            current = check_task_visible(None if row is None else ROWS.task(row), task_id, scope)
            check_task_writable(current.namespace, scope, what=f"task {task_id!r}")
            if current.version != expected_version:
                raise stale_task(current, expected_version)
            changes = task_changes(update)
            p = PostgresParams(task_id)
            sets = [f"{column} = {p.add(value)}" for column, value in changes.items()]
            sets += ["version = version + 1", f"updated_at = {p.add(utc_now())}"]
            row = await conn.fetchrow(
                f"UPDATE tasks SET {', '.join(sets)} WHERE task_id = $1 RETURNING *", *p.values
            )
        return ROWS.task(row)

    async def claim_task(
        self, task_id: str, agent: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> TaskRecord:
        """Assign an open, unassigned task to ``agent`` in one compare-and-set UPDATE (one winner).

        Raises:
            NotFoundError: no such task (or hidden from the scope).
            PermissionDeniedError: the scope does not write the task's namespace.
            ConflictError: claimed by someone else, not open, or not at ``expected_version``.
        """
        async with self._transaction() as conn:
            row = await conn.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)
            visible = check_task_visible(None if row is None else ROWS.task(row), task_id, scope)
            check_task_writable(visible.namespace, scope, what=f"task {task_id!r}")
            row = await conn.fetchrow(
                "UPDATE tasks SET status = 'claimed', assignee = $2, version = version + 1, updated_at = $3"
                " WHERE task_id = $1 AND status = 'open' AND assignee IS NULL"
                " AND ($4::integer IS NULL OR version = $4) RETURNING *",
                task_id,
                agent,
                utc_now(),
                expected_version,
            )
            if row is not None:
                return ROWS.task(row)
            row = await conn.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)
        if row is None:
            raise NotFoundError("task", task_id)
        current = ROWS.task(row)
        if check_claim(current, agent, expected_version):
            return current
        # Claimable now but not at the UPDATE: another transaction changed it in between.
        raise stale_task(current, expected_version)
