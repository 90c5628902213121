"""Versioned facts: compare-and-set, create-only, delete, history, listing, scope and races."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from storage import (
    ConflictError,
    InvalidInputError,
    MemoryStore,
    NotFoundError,
    PermissionDeniedError,
    Scope,
)
from storage.models import Fact, Sensitivity
from tests.storage.contract.conftest import StoreFactory
from tests.storage.contract.support import collect_pages, is_utc

pytestmark = pytest.mark.anyio

NS = "shared-plans"


async def test_set_fact_creates_at_version_one_and_get_fact_reads_it(store: MemoryStore) -> None:
    value = {"limit": 250, "currency": "EUR", "approvers": ["ana", "bo"], "strict": True}
    created = await store.set_fact(NS, "refund-policy", value, expected_version=0, scope=Scope("triage"))

    assert (created.namespace, created.key, created.version) == (NS, "refund-policy", 1)
    assert created.value == value
    assert created.sensitivity == Sensitivity.INTERNAL
    assert created.created_by == created.updated_by == "triage"
    assert is_utc(created.created_at)
    assert await store.get_fact(NS, "refund-policy") == created


@pytest.mark.parametrize("value", ["text", 42, 2.5, False, [1, "two"], {"nested": {"deep": [None, 1]}}])
async def test_any_json_value_but_null_round_trips(store: MemoryStore, value: Any) -> None:
    await store.set_fact(NS, "k", value)

    assert (await store.get_fact(NS, "k")).value == value


async def test_a_write_with_the_current_version_replaces_the_value_and_bumps_the_version(
    store: MemoryStore,
) -> None:
    await store.set_fact(NS, "plan", "a")
    second = await store.set_fact(NS, "plan", "b", expected_version=1, sensitivity=Sensitivity.PUBLIC)

    assert (second.version, second.value, second.sensitivity) == (2, "b", Sensitivity.PUBLIC)
    assert second.updated_at >= second.created_at


async def test_a_stale_version_conflicts_with_the_current_fact_and_changes_nothing(
    store: MemoryStore,
) -> None:
    await store.set_fact(NS, "plan", "a")
    current = await store.set_fact(NS, "plan", "b", expected_version=1)

    with pytest.raises(ConflictError) as caught:
        await store.set_fact(NS, "plan", "c", expected_version=1)

    assert caught.value.current_version == 2
    assert caught.value.current == current
    assert await store.get_fact(NS, "plan") == current
    assert [c.version for c in await store.fact_history(NS, "plan")] == [2, 1]


@pytest.mark.parametrize("expected", [0, None])
async def test_creating_an_existing_fact_conflicts(store: MemoryStore, expected: int | None) -> None:
    current = await store.set_fact(NS, "plan", "a")

    with pytest.raises(ConflictError) as caught:
        await store.set_fact(NS, "plan", "b", expected_version=expected)

    assert (caught.value.current_version, caught.value.current) == (1, current)


async def test_updating_a_missing_fact_conflicts_with_version_zero(store: MemoryStore) -> None:
    with pytest.raises(ConflictError) as caught:
        await store.set_fact(NS, "ghost", "x", expected_version=3)

    assert (caught.value.current_version, caught.value.current) == (0, None)
    with pytest.raises(NotFoundError):
        await store.get_fact(NS, "ghost")


async def test_delete_keeps_history_and_recreating_continues_the_versions(store: MemoryStore) -> None:
    await store.set_fact(NS, "plan", "a")
    await store.set_fact(NS, "plan", "b", expected_version=1)
    deleted = await store.delete_fact(NS, "plan", expected_version=2, scope=Scope("ops"))

    assert (deleted.version, deleted.value) == (2, "b")
    with pytest.raises(NotFoundError):
        await store.get_fact(NS, "plan")
    with pytest.raises(ConflictError):
        await store.set_fact(NS, "plan", "c", expected_version=2)
    recreated = await store.set_fact(NS, "plan", "c", expected_version=0)

    assert recreated.version == 4
    history = await store.fact_history(NS, "plan")
    assert [(c.version, c.value, c.deleted) for c in history] == [
        (4, "c", False),
        (3, None, True),
        (2, "b", False),
        (1, "a", False),
    ]
    assert history[1].changed_by == "ops"
    assert [c.version for c in await store.fact_history(NS, "plan", limit=2, before_version=3)] == [2, 1]


async def test_delete_with_a_stale_version_conflicts_and_keeps_the_fact(store: MemoryStore) -> None:
    await store.set_fact(NS, "plan", "a")
    current = await store.set_fact(NS, "plan", "b", expected_version=1)

    with pytest.raises(ConflictError) as caught:
        await store.delete_fact(NS, "plan", expected_version=1)

    assert caught.value.current_version == 2
    assert await store.get_fact(NS, "plan") == current
    with pytest.raises(NotFoundError):
        await store.delete_fact(NS, "missing")


async def test_list_facts_pages_by_key_and_filters_by_prefix(store: MemoryStore) -> None:
    keys = [f"k{i:02d}" for i in range(12)] + ["other", "k-x"]
    for key in keys:
        await store.set_fact(NS, key, key.upper())
    await store.set_fact("shared-elsewhere", "k00", "not here")
    await store.delete_fact(NS, "k03")

    listed = await collect_pages(lambda c: store.list_facts(NS, limit=5, cursor=c), limit=5)
    prefixed = await collect_pages(lambda c: store.list_facts(NS, prefix="k0", limit=4, cursor=c), limit=4)

    assert [f.key for f in listed] == sorted(set(keys) - {"k03"})
    assert [f.value for f in listed][:2] == ["K-X", "K00"]
    assert [f.key for f in prefixed] == ["k00", "k01", "k02", "k04", "k05", "k06", "k07", "k08", "k09"]
    with pytest.raises(InvalidInputError):
        await store.list_facts(NS, cursor="not a cursor")


async def test_scope_governs_facts_like_memories(store: MemoryStore) -> None:
    await store.set_fact("agent-a", "private", 1)
    await store.set_fact(NS, "open", 2, sensitivity=Sensitivity.INTERNAL)
    secret = await store.set_fact(NS, "secret", 3, sensitivity=Sensitivity.CONFIDENTIAL)
    reader = Scope(
        "b", read_namespaces=("shared-*",), write_namespaces=(), max_sensitivity=Sensitivity.INTERNAL
    )

    with pytest.raises(NotFoundError):
        await store.get_fact("agent-a", "private", scope=reader)
    with pytest.raises(NotFoundError):
        await store.get_fact(NS, "secret", scope=reader)
    assert [f.key for f in (await store.list_facts(NS, scope=reader)).items] == ["open"]
    assert (await store.list_facts("agent-a", scope=reader)).items == []
    assert await store.fact_history(NS, "secret", scope=reader) == []
    assert await store.fact_history("agent-a", "private", scope=reader) == []
    with pytest.raises(PermissionDeniedError):
        await store.set_fact(NS, "open", 5, expected_version=1, scope=reader)
    writer = Scope("c", write_namespaces=("shared-*",), max_sensitivity=Sensitivity.INTERNAL)
    with pytest.raises(PermissionDeniedError):
        await store.set_fact(NS, "new", 1, sensitivity=Sensitivity.CONFIDENTIAL, scope=writer)
    with pytest.raises(PermissionDeniedError):
        await store.set_fact(NS, "secret", 4, expected_version=1, scope=writer)
    with pytest.raises(NotFoundError):
        await store.delete_fact(NS, "secret", scope=writer)
    assert await store.get_fact(NS, "secret") == secret


@pytest.mark.parametrize(
    ("namespace", "key", "value"),
    [
        ("Bad NS", "k", 1),
        (NS, "has/slash", 1),
        (NS, "", 1),
        (NS, "k", None),
        (NS, "k", float("nan")),
        (NS, "k", "x" * 70_000),
    ],
)
async def test_bad_namespace_key_or_value_is_refused(
    store: MemoryStore, namespace: str, key: str, value: Any
) -> None:
    with pytest.raises(InvalidInputError):
        await store.set_fact(namespace, key, value)

    assert await store.fact_history(NS, "k") == []


async def _race(calls: list[Callable[[], Awaitable[Fact]]]) -> tuple[list[Fact], list[ConflictError]]:
    winners: list[Fact] = []
    losers: list[ConflictError] = []

    async def run(call: Callable[[], Awaitable[Fact]]) -> None:
        try:
            winners.append(await call())
        except ConflictError as exc:
            losers.append(exc)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(run, call)
    return winners, losers


async def test_racing_writers_at_one_version_across_two_stores_have_exactly_one_winner(
    store_factory: StoreFactory,
) -> None:
    url = await store_factory.new_url()
    stores = [await store_factory.open(url), await store_factory.open(url)]
    await stores[0].set_fact(NS, "owner", "nobody")

    winners, losers = await _race(
        [lambda i=i: stores[i % 2].set_fact(NS, "owner", f"agent-{i}", expected_version=1) for i in range(12)]
    )

    assert len(winners) == 1
    assert len(losers) == 11
    assert all(c.current_version == 2 and c.current == winners[0] for c in losers)
    assert await stores[1].get_fact(NS, "owner") == winners[0]
    assert [c.version for c in await stores[0].fact_history(NS, "owner")] == [2, 1]


async def test_racing_creators_have_exactly_one_winner(store: MemoryStore) -> None:
    winners, losers = await _race([lambda i=i: store.set_fact(NS, "lock", i) for i in range(12)])

    assert (len(winners), len(losers)) == (1, 11)
    assert (await store.get_fact(NS, "lock")).value == winners[0].value
