"""Tasks: versions, optimistic updates and the compare-and-set claim."""

from __future__ import annotations

import pytest

from storage import ConflictError, InvalidInputError, MemoryStore, NotFoundError
from storage.models import NewRoom, NewTask, TaskStatus, TaskUpdate
from storage.paging import encode_cursor
from tests.storage.contract.support import collect_pages, is_utc

pytestmark = pytest.mark.anyio


async def test_create_task_starts_open_at_version_one(store: MemoryStore) -> None:
    await store.create_room(NewRoom(room_id="room_1", namespace="rooms-support"))
    task = await store.create_task(
        NewTask(title="Refund order 17", description="partial", room_id="room_1", metadata={"order": 17})
    )

    assert task.task_id.startswith("task_")
    assert task.title == "Refund order 17"
    assert task.description == "partial"
    assert task.status is TaskStatus.OPEN
    assert task.priority == 1
    assert task.assignee is None
    assert task.room_id == "room_1"
    assert task.namespace == "rooms-support"  # the room's
    assert task.metadata == {"order": 17}
    assert task.version == 1
    assert is_utc(task.created_at)
    assert await store.get_task(task.task_id) == task


async def test_create_task_with_an_assignee_starts_claimed(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t", assignee="billing", created_by="triage"))

    assert task.status is TaskStatus.CLAIMED
    assert task.assignee == "billing"
    assert task.created_by == "triage"
    assert task.version == 1


async def test_get_task_of_an_unknown_id_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.get_task("task_missing")


async def test_list_tasks_orders_by_priority_then_age_across_pages(store: MemoryStore) -> None:
    created = [
        await store.create_task(NewTask(title=f"t{i}", priority=p)) for i, p in enumerate([1, 3, 0, 3, 1, 2])
    ]
    expected = sorted(created, key=lambda t: (-t.priority, t.created_at, t.task_id))

    listed = await collect_pages(lambda c: store.list_tasks(limit=2, cursor=c), limit=2)

    assert [t.title for t in listed] == [t.title for t in expected]
    assert [t.title for t in listed] == ["t1", "t3", "t5", "t0", "t4", "t2"]


async def test_list_tasks_filters_by_status_assignee_and_room(store: MemoryStore) -> None:
    for room_id in ("room_1", "room_2"):
        await store.create_room(NewRoom(room_id=room_id))
    a = await store.create_task(NewTask(title="a", room_id="room_1"))
    b = await store.create_task(NewTask(title="b", assignee="billing", room_id="room_1"))
    c = await store.create_task(NewTask(title="c", assignee="billing", room_id="room_2"))
    d = await store.create_task(NewTask(title="d"))
    d = await store.update_task(d.task_id, TaskUpdate(status=TaskStatus.DONE), expected_version=1)

    async def titles(**kwargs: object) -> set[str]:
        return {t.title for t in (await store.list_tasks(**kwargs)).items}  # type: ignore[arg-type]

    assert await titles(status=[TaskStatus.OPEN]) == {a.title}
    assert await titles(status=[TaskStatus.CLAIMED, TaskStatus.DONE]) == {b.title, c.title, d.title}
    assert await titles(assignee="billing") == {b.title, c.title}
    assert await titles(room_id="room_1") == {a.title, b.title}
    assert await titles(room_id="room_1", assignee="billing", status=[TaskStatus.CLAIMED]) == {b.title}
    assert await titles() == {"a", "b", "c", "d"}


async def test_list_tasks_refuses_a_cursor_it_did_not_make(store: MemoryStore) -> None:
    with pytest.raises(InvalidInputError):
        await store.list_tasks(cursor="bm90LWEtY3Vyc29y")


@pytest.mark.parametrize(
    "key",
    [
        ["high", "2026-01-01T00:00:00.000000+00:00", "task_x"],  # priority not an integer
        [True, "2026-01-01T00:00:00.000000+00:00", "task_x"],  # a boolean is no priority
        [1, "yesterday", "task_x"],  # not a timestamp
        [1, "2026-01-01T00:00:00", "task_x"],  # a timestamp without its offset
    ],
)
async def test_list_tasks_refuses_a_well_formed_cursor_with_keys_of_the_wrong_type(
    store: MemoryStore, key: list[object]
) -> None:
    await store.create_task(NewTask(title="a", created_by="lead"))
    with pytest.raises(InvalidInputError):
        await store.list_tasks(cursor=encode_cursor(*key))


async def test_update_task_at_the_current_version_applies_and_bumps_it(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="old", priority=1, metadata={"a": 1}))

    updated = await store.update_task(
        task.task_id,
        TaskUpdate(
            title="new", status=TaskStatus.IN_PROGRESS, priority=3, assignee="billing", metadata={"b": 2}
        ),
        expected_version=1,
    )

    assert updated.version == 2
    assert updated.title == "new"
    assert updated.description == task.description
    assert updated.status is TaskStatus.IN_PROGRESS
    assert updated.priority == 3
    assert updated.assignee == "billing"
    assert updated.metadata == {"b": 2}
    assert updated.created_at == task.created_at
    assert updated.updated_at >= task.updated_at
    assert await store.get_task(task.task_id) == updated


async def test_update_task_leaves_fields_given_as_none(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="keep", description="d", priority=2, assignee="x"))

    updated = await store.update_task(task.task_id, TaskUpdate(description="changed"), expected_version=1)

    assert (updated.title, updated.description, updated.priority, updated.assignee) == (
        "keep",
        "changed",
        2,
        "x",
    )


async def test_update_task_clear_assignee_unassigns(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t", assignee="billing"))

    updated = await store.update_task(
        task.task_id, TaskUpdate(clear_assignee=True, status=TaskStatus.OPEN), expected_version=1
    )

    assert updated.assignee is None
    assert updated.status is TaskStatus.OPEN


async def test_stale_task_update_changes_nothing_and_carries_the_current_version(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))
    current = await store.update_task(task.task_id, TaskUpdate(title="t2"), expected_version=1)

    with pytest.raises(ConflictError) as caught:
        await store.update_task(task.task_id, TaskUpdate(title="lost write"), expected_version=1)

    assert caught.value.current_version == 2
    assert caught.value.current is not None
    assert await store.get_task(task.task_id) == current


async def test_update_task_of_an_unknown_id_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.update_task("task_missing", TaskUpdate(title="x"), expected_version=1)


async def test_claim_task_assigns_an_open_task(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))

    claimed = await store.claim_task(task.task_id, "billing")

    assert claimed.status is TaskStatus.CLAIMED
    assert claimed.assignee == "billing"
    assert claimed.version == 2
    assert await store.get_task(task.task_id) == claimed


async def test_claim_task_again_by_the_holder_returns_it_unchanged(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))
    claimed = await store.claim_task(task.task_id, "billing")

    again = await store.claim_task(task.task_id, "billing")

    assert again == claimed
    assert await store.get_task(task.task_id) == claimed


async def test_claim_task_retried_by_the_holder_at_the_version_it_sent_returns_it(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))
    claimed = await store.claim_task(task.task_id, "billing", expected_version=task.version)

    retried = await store.claim_task(task.task_id, "billing", expected_version=task.version)

    assert retried == claimed


async def test_claim_task_held_by_another_agent_is_a_conflict(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))
    claimed = await store.claim_task(task.task_id, "billing")

    with pytest.raises(ConflictError):
        await store.claim_task(task.task_id, "triage")

    assert await store.get_task(task.task_id) == claimed


async def test_claim_task_that_is_not_open_is_a_conflict(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))
    done = await store.update_task(task.task_id, TaskUpdate(status=TaskStatus.DONE), expected_version=1)

    with pytest.raises(ConflictError):
        await store.claim_task(task.task_id, "billing")

    assert await store.get_task(task.task_id) == done


async def test_claim_task_at_a_stale_version_is_a_conflict(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))
    current = await store.update_task(task.task_id, TaskUpdate(title="t2"), expected_version=1)

    with pytest.raises(ConflictError):
        await store.claim_task(task.task_id, "billing", expected_version=1)
    claimed = await store.claim_task(task.task_id, "billing", expected_version=current.version)

    assert claimed.assignee == "billing"


async def test_claim_task_of_an_unknown_id_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.claim_task("task_missing", "billing")
