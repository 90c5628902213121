"""Tasks: optimistic-concurrency updates (``version``) and an atomic claim (compare-and-set).

Writes run under ``BEGIN IMMEDIATE``, and every update is also guarded by ``WHERE version = ?``, so of
any number of racing claims (threads or processes) exactly one sees the task open and wins.
"""

from __future__ import annotations

from typing import Any

import apsw

from storage.models import NewTask, TaskRecord, TaskStatus, TaskUpdate, new_id, utc_now
from storage.models.tasks import (
    check_claim,
    check_task_visible,
    check_task_writable,
    stale_task,
    task_changes,
    task_namespace,
)
from storage.queries.tasks import TaskQueries
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.events import room_row
from storage.sqlite.rows import ROWS, fetch_by_key, fetch_one, to_json, ts

__all__ = ["SQLiteTasks"]


def _task_row(conn: apsw.Connection, task_id: str) -> dict[str, Any]:
    return fetch_by_key(conn, "tasks", "task_id", task_id, "task")


def _writable(conn: apsw.Connection, task_id: str, scope: Scope | None) -> TaskRecord:
    """The task (read in this write transaction) when the scope reads and writes its namespace."""
    row = fetch_one(conn, "SELECT * FROM tasks WHERE task_id = ?", (task_id,))
    task = check_task_visible(None if row is None else ROWS.task(row), task_id, scope)
    check_task_writable(task.namespace, scope, what=f"task {task_id!r}")
    return task


def create_task(conn: apsw.Connection, task: NewTask, scope: Scope | None) -> TaskRecord:
    """Insert a task: status ``open``, or ``claimed`` with an assignee; version 1; in its namespace."""
    room_namespace = room_row(conn, task.room_id, scope)["namespace"] if task.room_id is not None else None
    namespace = task_namespace(task, room_namespace)
    check_task_writable(namespace, scope, what=f"tasks in namespace {namespace!r}")
    task_id = new_id("task")
    now = ts(utc_now())
    status = TaskStatus.CLAIMED if task.assignee else TaskStatus.OPEN
    conn.execute(
        "INSERT INTO tasks (task_id, title, description, status, priority, assignee, room_id, namespace,"
        " metadata, created_by, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (
            task_id,
            task.title,
            task.description,
            status.value,
            task.priority,
            task.assignee,
            task.room_id,
            namespace,
            to_json(task.metadata),
            task.created_by,
            now,
            now,
        ),
    )
    return ROWS.task(_task_row(conn, task_id))


def _compare_and_set(
    conn: apsw.Connection, task_id: str, version: int, changes: dict[str, Any]
) -> TaskRecord:
    """UPDATE the columns of ``changes`` WHERE version matches; bump version and ``updated_at``."""
    sets = ", ".join(f"{column} = ?" for column in changes)
    conn.execute(
        f"UPDATE tasks SET {sets}, version = version + 1, updated_at = ? WHERE task_id = ? AND version = ?",
        (*changes.values(), ts(utc_now()), task_id, version),
    )
    if conn.changes() != 1:
        current = ROWS.task(_task_row(conn, task_id))
        raise stale_task(current, version)
    return ROWS.task(_task_row(conn, task_id))


def update_task(
    conn: apsw.Connection, task_id: str, update: TaskUpdate, expected_version: int, scope: Scope | None
) -> TaskRecord:
    """Apply ``update`` at ``expected_version``.

    Raises: NotFoundError, PermissionDeniedError (namespace not writable), ConflictError (stale version).
    """
    current = _writable(conn, task_id, scope)
    if current.version != expected_version:
        raise stale_task(current, expected_version)
    changes = task_changes(update)
    if "metadata" in changes:
        changes["metadata"] = to_json(changes["metadata"])
    changes.setdefault("title", current.title)  # keeps the SET list non-empty for an empty update
    return _compare_and_set(conn, task_id, expected_version, changes)


def claim_task(
    conn: apsw.Connection, task_id: str, agent: str, expected_version: int | None, scope: Scope | None
) -> TaskRecord:
    """Assign an open, unassigned task to ``agent`` (``check_claim``).

    Raises: NotFoundError, PermissionDeniedError (namespace not writable), ConflictError.
    """
    current = _writable(conn, task_id, scope)
    if check_claim(current, agent, expected_version):
        return current
    return _compare_and_set(
        conn, task_id, current.version, {"status": TaskStatus.CLAIMED.value, "assignee": agent}
    )


class SQLiteTasks(TaskQueries, SQLiteCore):
    """``TaskStore``'s writes on SQLite: versioned updates and the atomic claim, each one write transaction
    (the reads are ``TaskQueries``)."""

    async def create_task(self, task: NewTask, *, scope: Scope | None = None) -> TaskRecord:
        return await self._db.write(create_task, task, scope)

    async def update_task(
        self, task_id: str, update: TaskUpdate, *, expected_version: int, scope: Scope | None = None
    ) -> TaskRecord:
        return await self._db.write(update_task, task_id, update, expected_version, scope)

    async def claim_task(
        self, task_id: str, agent: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> TaskRecord:
        return await self._db.write(claim_task, task_id, agent, expected_version, scope)
