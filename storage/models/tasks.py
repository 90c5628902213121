"""Task records: work items with status, priority, assignee and version."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import Field

from storage.models.common import _Record

__all__ = ["NewTask", "TaskRecord", "TaskStatus", "TaskUpdate"]


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
    metadata: dict[str, Any]
    created_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    reopen_count: int = 0
    claim_count: int = 0
