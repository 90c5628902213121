"""The TaskStore contract. Tasks: work items with optimistic versions and an atomic claim.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.models import (
    NewTask,
    Page,
    TaskRecord,
    TaskStatus,
    TaskUpdate,
)
from storage.paging import DEFAULT_PAGE_SIZE

__all__ = ["TaskStore"]


class TaskStore(abc.ABC):
    """Tasks: work items with optimistic versions and an atomic claim."""

    @abc.abstractmethod
    async def create_task(self, task: NewTask) -> TaskRecord:
        """Create a task (status ``open``, or ``claimed`` when an assignee is given; version 1)."""

    @abc.abstractmethod
    async def get_task(self, task_id: str) -> TaskRecord:
        """Return a task. Raises: NotFoundError."""

    @abc.abstractmethod
    async def list_tasks(
        self,
        *,
        status: Sequence[TaskStatus] | None = None,
        assignee: str | None = None,
        room_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[TaskRecord]:
        """List tasks, highest priority first, then oldest first. Raises: InvalidInputError (bad cursor)."""

    @abc.abstractmethod
    async def update_task(self, task_id: str, update: TaskUpdate, *, expected_version: int) -> TaskRecord:
        """Apply ``update`` if the task is still at ``expected_version``; the version grows by one.

        Raises:
            NotFoundError: no such task.
            ConflictError: the task is at another version (``current_version`` and ``current`` carry it).
        """

    @abc.abstractmethod
    async def claim_task(
        self, task_id: str, agent: str, *, expected_version: int | None = None
    ) -> TaskRecord:
        """Atomically assign an open, unassigned task to ``agent`` (status ``claimed``).

        A compare-and-set: of any number of concurrent claims exactly one wins. Claiming a task the same
        agent already holds returns it unchanged.

        Raises:
            NotFoundError: no such task.
            ConflictError: claimed by someone else, not open, or not at ``expected_version``.
        """
