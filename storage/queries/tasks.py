"""``TaskQueries``: reading and listing tasks, written once for both backends."""

from __future__ import annotations

from collections.abc import Sequence

from storage.contracts.tasks import TaskStore
from storage.models import Page, TaskRecord, TaskStatus
from storage.models.tasks import check_task_visible
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor
from storage.queries.reader import Reader, cursor_int, cursor_time, page_of
from storage.scope import Scope

__all__ = ["TASK_ORDER", "TaskQueries"]

#: The listing order of tasks: highest priority first, then oldest first, then by id.
TASK_ORDER = "priority DESC, created_at ASC, task_id ASC"


class TaskQueries(Reader, TaskStore):
    """``TaskStore``'s reads: one task, and the filtered, paged listing."""

    async def get_task(self, task_id: str, *, scope: Scope | None = None) -> TaskRecord:
        p = self.PARAMS()
        row = await self._fetch_one(f"SELECT * FROM tasks WHERE task_id = {p.add(task_id)}", p.values)
        return check_task_visible(None if row is None else self.ROWS.task(row), task_id, scope)

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
        size = clamp_limit(limit)
        p = self.PARAMS()
        p.require(p.readable("namespace", scope))
        if status:
            p.require(p.equals_any("status", [TaskStatus(s).value for s in status]))
        if assignee is not None:
            p.require(f"assignee = {p.add(assignee)}")
        if room_id is not None:
            p.require(f"room_id = {p.add(room_id)}")
        if cursor is not None:
            priority, at, last_id = decode_cursor(cursor, 3)
            level = cursor_int(priority)
            # ``?`` binds in textual order: add each value where its placeholder stands.
            before = f"priority < {p.add(level)}"
            same = f"priority = {p.add(level)}"
            later = f"(created_at, task_id) > ({p.add(p.time_value(cursor_time(at)))}, {p.add(str(last_id))})"
            p.require(f"({before} OR ({same} AND {later}))")
        rows = await self._fetch(
            f"SELECT * FROM tasks WHERE {p.sql()} ORDER BY {TASK_ORDER} LIMIT {p.add(size + 1)}", p.values
        )
        return page_of(
            rows,
            size,
            self.ROWS.task,
            lambda r: (r["priority"], self._time_text(r["created_at"]), r["task_id"]),
        )
