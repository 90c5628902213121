"""Concurrent writers: gapless indexes, one claim winner, one identity, one idempotent event.

Writers run as concurrent tasks on one store, and on two store instances opened on the same database
(two SQLite connections / two PostgreSQL pools: stand-ins for two server processes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import pytest

from storage import ConflictError, MemoryStore
from storage.models import NewEvent, NewRoom, NewTask, TaskUpdate
from tests.storage.contract.conftest import StoreFactory

pytestmark = pytest.mark.anyio

T = TypeVar("T")
WAIT_SECONDS = 60


async def _race(calls: list[Callable[[], Awaitable[T]]]) -> tuple[list[T], list[ConflictError]]:
    """Run every call concurrently; return the results and the conflicts (other errors propagate)."""
    results: list[T] = []
    conflicts: list[ConflictError] = []

    async def run(call: Callable[[], Awaitable[T]]) -> None:
        try:
            results.append(await call())
        except ConflictError as exc:
            conflicts.append(exc)

    with anyio.fail_after(WAIT_SECONDS):
        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(run, call)
    return results, conflicts


async def _append_concurrently(
    stores: list[MemoryStore], room_id: str, writers: int, per_writer: int
) -> None:
    seen: dict[int, list[int]] = {w: [] for w in range(writers)}

    async def writer(w: int) -> None:
        store = stores[w % len(stores)]
        for i in range(per_writer):
            result = await store.append_event(NewEvent(room_id=room_id, content=f"writer {w} message {i}"))
            seen[w].append(result.event.index)

    with anyio.fail_after(WAIT_SECONDS):
        async with anyio.create_task_group() as tg:
            for w in range(writers):
                tg.start_soon(writer, w)

    total = writers * per_writer
    assert sorted(i for indexes in seen.values() for i in indexes) == list(range(1, total + 1))
    for indexes in seen.values():
        assert indexes == sorted(indexes), "each writer sees its own events in increasing index order"
    events = await stores[0].list_events(room_id, limit=total)
    assert [e.index for e in events] == list(range(1, total + 1))
    assert (await stores[-1].get_room(room_id)).last_event_index == total


@pytest.mark.slow_on_postgres  # 400 appends; the two-instance test below races on PostgreSQL in the fast tier
async def test_concurrent_appenders_get_gapless_indexes(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    await _append_concurrently([store], room.room_id, writers=8, per_writer=50)


async def test_appenders_on_two_store_instances_get_gapless_indexes(store_factory: StoreFactory) -> None:
    url = await store_factory.new_url()
    first = await store_factory.open(url)
    second = await store_factory.open(url)
    room = await first.create_room(NewRoom())

    await _append_concurrently([first, second], room.room_id, writers=8, per_writer=25)


async def test_concurrent_retries_with_one_idempotency_key_write_one_event(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    event = NewEvent(room_id=room.room_id, content="pay", idempotency_key="once")

    results, conflicts = await _race([lambda: store.append_event(event) for _ in range(16)])

    assert conflicts == []
    assert sum(r.created for r in results) == 1
    assert len({r.event.event_id for r in results}) == 1
    assert [e.index for e in await store.list_events(room.room_id)] == [1]


async def test_claim_task_has_exactly_one_winner(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="contested"))

    winners, losers = await _race(
        [lambda agent=f"agent-{i}": store.claim_task(task.task_id, agent) for i in range(16)]
    )

    assert len(winners) == 1
    assert len(losers) == 15
    final = await store.get_task(task.task_id)
    assert final.assignee == winners[0].assignee
    assert final.version == 2


async def test_claim_task_across_two_store_instances_has_exactly_one_winner(
    store_factory: StoreFactory,
) -> None:
    url = await store_factory.new_url()
    stores = [await store_factory.open(url), await store_factory.open(url)]
    task = await stores[0].create_task(NewTask(title="contested"))

    winners, losers = await _race(
        [lambda i=i: stores[i % 2].claim_task(task.task_id, f"agent-{i}") for i in range(16)]
    )

    assert len(winners) == 1
    assert len(losers) == 15
    assert (await stores[1].get_task(task.task_id)).assignee == winners[0].assignee


async def test_concurrent_updates_at_one_version_have_exactly_one_winner(store: MemoryStore) -> None:
    task = await store.create_task(NewTask(title="t"))

    winners, losers = await _race(
        [
            lambda i=i: store.update_task(task.task_id, TaskUpdate(title=f"title {i}"), expected_version=1)
            for i in range(12)
        ]
    )

    assert len(winners) == 1
    assert len(losers) == 11
    assert all(c.current_version == 2 for c in losers)
    assert await store.get_task(task.task_id) == winners[0]


async def test_concurrent_resolves_of_a_new_address_create_one_identity(store: MemoryStore) -> None:
    results, conflicts = await _race([lambda: store.resolve_identity("sms", "+15550001") for _ in range(12)])

    assert conflicts == []
    assert len({identity.identity_id for identity, _ in results}) == 1
    assert sum(created for _, created in results) == 1


async def test_concurrent_state_updates_at_one_version_have_exactly_one_winner(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    winners, losers = await _race(
        [
            lambda i=i: store.update_conversation_state(room.room_id, phase=f"p{i}", expected_version=1)
            for i in range(12)
        ]
    )

    assert len(winners) == 1
    assert len(losers) == 11
    assert (await store.get_room(room.room_id)).state == winners[0]
