"""Task records: work items with status, priority, assignee and version, each in a namespace.

A task lives in a namespace like a room or a memory: by default its room's, else ``DEFAULT_TASK_NAMESPACE``.
The scope rules of the tasks area are written once here (``check_task_visible``, ``check_task_writable``,
``task_namespace``) and applied by both backends inside their read or write transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import Field

from storage.errors import ConflictError, NotFoundError, PermissionDeniedError
from storage.models.common import NAMESPACE_PATTERN, _Record
from storage.scope import Scope

__all__ = [
    "DEFAULT_TASK_NAMESPACE",
    "NewTask",
    "TaskRecord",
    "TaskStatus",
    "TaskUpdate",
    "check_claim",
    "check_task_visible",
    "check_task_writable",
    "stale_task",
    "task_changes",
    "task_namespace",
]

#: Namespace of a task that has no room and names none. Shared: the default policy reads ``shared-*``.
DEFAULT_TASK_NAMESPACE = "shared-tasks"


class TaskStatus(enum.StrEnum):
    """Life cycle of a task: ``open -> claimed -> in_progress -> done``; ``cancelled`` from any open state."""

    OPEN = "open"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class NewTask(_Record):
    """A task to create. ``priority``: 0 (low) .. 3 (urgent), default 1 (normal)."""

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    priority: int = Field(default=1, ge=0, le=3)
    assignee: str | None = Field(default=None, max_length=128)
    room_id: str | None = Field(default=None, max_length=128)
    namespace: str | None = Field(default=None, pattern=NAMESPACE_PATTERN)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_by: str | None = Field(default=None, max_length=128)


class TaskUpdate(_Record):
    """Fields to change on a task; ``None`` leaves a field as it is (use ``clear_assignee`` to unassign)."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    status: TaskStatus | None = None
    priority: int | None = Field(default=None, ge=0, le=3)
    assignee: str | None = Field(default=None, max_length=128)
    clear_assignee: bool = False
    metadata: dict[str, Any] | None = None


class TaskRecord(_Record):
    """A work item. ``version`` starts at 1 and grows by one on every change (optimistic concurrency).

    Kept by the store on every write (migration 0014): ``completed_at`` is when the task last went to
    ``done`` (``None`` while it is not done); ``reopen_count`` counts changes from ``done`` back to an
    open state; ``claim_count`` counts the times it was given to an agent (above 1: re-claimed).
    """

    task_id: str
    title: str
    description: str
    status: TaskStatus
    priority: int
    assignee: str | None
    room_id: str | None
    #: Who may see and change it (rooms' rules); tasks frozen in packages before it existed read as the default.
    namespace: str = DEFAULT_TASK_NAMESPACE
    metadata: dict[str, Any]
    created_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    reopen_count: int = 0
    claim_count: int = 0


# Rules of the tasks area that every backend applies around its compare-and-set SQL.


def task_namespace(task: NewTask, room_namespace: str | None) -> str:
    """The namespace a new task lives in: the one it names, else its room's, else the default."""
    return task.namespace or room_namespace or DEFAULT_TASK_NAMESPACE


def check_task_visible(task: TaskRecord | None, task_id: str, scope: Scope | None) -> TaskRecord:
    """``task`` when it exists and ``scope`` reads its namespace.

    Raises:
        NotFoundError: missing, or in a namespace the scope does not read (the same answer).
    """
    if task is None or (scope is not None and not scope.can_read(task.namespace)):
        raise NotFoundError("task", task_id)
    return task


def check_task_writable(namespace: str, scope: Scope | None, *, what: str) -> None:
    """Raises: PermissionDeniedError: ``scope`` does not write ``namespace`` (``what``: the task or its id)."""
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"agent {scope.agent!r} may not change {what} (namespace {namespace!r}; writable: "
            f"{', '.join(scope.write_namespaces) or 'none'})"
        )


def task_changes(update: TaskUpdate) -> dict[str, Any]:
    """Column -> new value of ``update`` (the fields it sets; ``assignee`` ``None`` with ``clear_assignee``).

    ``metadata`` is a dict and ``status`` its text; the backend encodes them for its columns.
    """
    changes: dict[str, Any] = {
        column: value
        for column, value in {
            "title": update.title,
            "description": update.description,
            "status": None if update.status is None else TaskStatus(update.status).value,
            "priority": update.priority,
            "assignee": update.assignee,
            "metadata": update.metadata,
        }.items()
        if value is not None
    }
    if update.clear_assignee:
        changes["assignee"] = None
    return changes


def stale_task(task: TaskRecord, expected_version: int | None) -> ConflictError:
    """The error of a write made at ``expected_version`` while ``task`` is current."""
    return ConflictError(
        f"task {task.task_id!r} is at version {task.version}, you sent {expected_version}: re-read it and retry",
        current_version=task.version,
        current=task,
    )


def check_claim(task: TaskRecord, agent: str, expected_version: int | None) -> bool:
    """Whether ``agent``'s claim of ``task`` (its current row) is already done.

    A claim by the holder of a claimed or in-progress task succeeds again without a change (a retried
    claim returns the task), whatever ``expected_version``. Otherwise the task must be open and
    unassigned, and at ``expected_version`` when one is given.

    Returns:
        ``True``: ``agent`` holds the task already (return it unchanged); ``False``: claim it.

    Raises:
        ConflictError: the task is held by another agent or not open, or not at ``expected_version``.
    """
    if task.assignee == agent and task.status in (TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS):
        return True
    if task.assignee is not None:
        reason = f"is already claimed by {task.assignee!r}"
    elif task.status != TaskStatus.OPEN:
        reason = f"is {task.status.value}, not open"
    elif expected_version is not None and task.version != expected_version:
        raise stale_task(task, expected_version)
    else:
        return False
    raise ConflictError(f"task {task.task_id!r} {reason}", current_version=task.version, current=task)
