"""Tasks keep when they were completed and how often they were reworked (migration 0014), on every backend."""

from __future__ import annotations

import pytest

from storage import MemoryStore
from storage.models import NewTask, TaskStatus, TaskUpdate

pytestmark = pytest.mark.anyio


async def test_completed_at_is_set_when_a_task_goes_to_done_and_cleared_when_it_reopens(
    store: MemoryStore,
) -> None:
    task = await store.create_task(NewTask(title="Refund order 17"))
    assert (task.completed_at, task.reopen_count, task.claim_count) == (None, 0, 0)
    claimed = await store.claim_task(task.task_id, "billing")
    assert claimed.claim_count == 1
    assert claimed.completed_at is None

    done = await store.update_task(task.task_id, TaskUpdate(status=TaskStatus.DONE), expected_version=2)
    assert done.completed_at == done.updated_at
    renamed = await store.update_task(task.task_id, TaskUpdate(title="Refund 17"), expected_version=3)
    assert renamed.completed_at == done.completed_at  # other changes keep the completion time

    reopened = await store.update_task(
        task.task_id, TaskUpdate(status=TaskStatus.IN_PROGRESS), expected_version=4
    )
    assert reopened.completed_at is None
    assert reopened.reopen_count == 1
    again = await store.update_task(task.task_id, TaskUpdate(status=TaskStatus.DONE), expected_version=5)
    assert again.completed_at == again.updated_at
    assert again.completed_at > done.completed_at
    assert await store.get_task(task.task_id) == again


async def test_claim_count_grows_when_a_task_changes_hands_but_not_on_other_changes(
    store: MemoryStore,
) -> None:
    assigned = await store.create_task(NewTask(title="Call back", assignee="triage"))
    assert assigned.claim_count == 1
    same = await store.update_task(assigned.task_id, TaskUpdate(priority=3), expected_version=1)
    assert same.claim_count == 1
    moved = await store.update_task(assigned.task_id, TaskUpdate(assignee="billing"), expected_version=2)
    assert moved.claim_count == 2
    freed = await store.update_task(
        assigned.task_id, TaskUpdate(clear_assignee=True, status=TaskStatus.OPEN), expected_version=3
    )
    assert freed.claim_count == 2
    reclaimed = await store.claim_task(assigned.task_id, "billing")
    assert reclaimed.claim_count == 3
    cancelled = await store.update_task(
        assigned.task_id, TaskUpdate(status=TaskStatus.CANCELLED), expected_version=reclaimed.version
    )
    assert (cancelled.completed_at, cancelled.reopen_count) == (None, 0)
