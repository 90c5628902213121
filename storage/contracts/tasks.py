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
from storage.scope import Scope

__all__ = ["TaskStore"]


class TaskStore(abc.ABC):
    """Tasks: work items with optimistic versions and an atomic claim, each in a namespace.

    With a ``scope``, a task whose namespace the scope does not read MUST look missing (``NotFoundError``,
    absent from listings); a visible one whose namespace it does not write MUST refuse changes
    (``PermissionDeniedError``) before anything is written, inside the write transaction. ``None`` is
    unrestricted (operators, tests).
    """

    @abc.abstractmethod
    async def create_task(self, task: NewTask, *, scope: Scope | None = None) -> TaskRecord:
        """Create a task (status ``open``, or ``claimed`` when an assignee is given; version 1) in
        ``task_namespace(task, room's namespace)``.

        Raises:
            NotFoundError: ``task.room_id`` names no room the scope reads.
            PermissionDeniedError: the scope does not write the task's namespace.
        """

    @abc.abstractmethod
    async def get_task(self, task_id: str, *, scope: Scope | None = None) -> TaskRecord:
        """Return a task. Raises: NotFoundError (also when hidden from the scope)."""

    @abc.abstractmethod
    async def list_tasks(
        self,
        *,
        status: Sequence[TaskStatus] | None = None,
        assignee: str | None = None,
        room_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[TaskRecord]:
        """List the tasks the scope reads, highest priority first, then oldest first (the filter is in the
        query: pages and cursors never count hidden tasks). Raises: InvalidInputError (bad cursor)."""

    @abc.abstractmethod
    async def update_task(
        self, task_id: str, update: TaskUpdate, *, expected_version: int, scope: Scope | None = None
    ) -> TaskRecord:
        """Apply ``update`` if the task is still at ``expected_version``; the version grows by one.

        Raises:
            NotFoundError: no such task (or hidden from the scope).
            PermissionDeniedError: the scope reads the task but does not write its namespace.
            ConflictError: the task is at another version (``current_version`` and ``current`` carry it).
        """

    @abc.abstractmethod
    async def claim_task(
        self, task_id: str, agent: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> TaskRecord:
        """Atomically assign an open, unassigned task to ``agent`` (status ``claimed``).

        A compare-and-set: of any number of concurrent claims exactly one wins. Claiming a task the same
        agent already holds returns it unchanged.

        Raises:
            NotFoundError: no such task (or hidden from the scope).
            PermissionDeniedError: the scope reads the task but does not write its namespace.
            ConflictError: claimed by someone else, not open, or not at ``expected_version``.
        """
