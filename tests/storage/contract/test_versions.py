"""Snapshots, rollback, branches and merges of a namespace's memories and facts ("git for memory")."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import (
    ConflictError,
    InvalidInputError,
    MemoryStore,
    NotFoundError,
    PermissionDeniedError,
    Scope,
)
from storage.models import Memory, MemoryFilter, NewMemory, SearchRequest, Sensitivity
from tests.storage.contract.conftest import StoreFactory
from tests.storage.contract.support import axis, collect_pages

pytestmark = pytest.mark.anyio

NS = "shared-kb"


async def memories_of(store: MemoryStore, namespace: str) -> dict[str, Memory]:
    found = await collect_pages(
        lambda c: store.list_memories(MemoryFilter(namespaces=[namespace]), limit=50, cursor=c), limit=50
    )
    return {m.memory_id: m for m in found}


async def facts_of(store: MemoryStore, namespace: str) -> dict[str, tuple[Any, Sensitivity]]:
    found = await collect_pages(lambda c: store.list_facts(namespace, limit=50, cursor=c), limit=50)
    return {f.key: (f.value, f.sensitivity) for f in found}


async def put(store: MemoryStore, namespace: str, key: str, value: Any, **kwargs: Any) -> None:
    """Set a fact whatever its current version."""
    try:
        version = (await store.get_fact(namespace, key)).version
    except NotFoundError:
        version = 0
    await store.set_fact(namespace, key, value, expected_version=version, **kwargs)


async def test_rollback_removes_additions_restores_deletions_and_facts(store: MemoryStore) -> None:
    kept = await store.add_memory(NewMemory(namespace=NS, content="zebra kept", kind="decision"), axis(1))
    doomed = await store.add_memory(
        NewMemory(namespace=NS, content="zebra doomed", tags=["t"], metadata={"a": 1}, importance=0.9),
        axis(2),
    )
    other = await store.add_memory(NewMemory(namespace="shared-other", content="zebra elsewhere"))
    await store.set_fact(NS, "plan", {"v": 1})
    await store.set_fact(NS, "gone-later", "x")
    snapshot = await store.create_snapshot(NS, "before import", scope=Scope("ops"))
    before_memories, before_facts = await memories_of(store, NS), await facts_of(store, NS)

    added = await store.add_memory(NewMemory(namespace=NS, content="zebra added"), axis(3))
    await store.delete_memory(doomed.memory_id)
    await store.set_fact(NS, "plan", {"v": 2}, expected_version=1)
    await store.delete_fact(NS, "gone-later")
    await store.set_fact(NS, "new-key", 1)
    await store.add_memory(NewMemory(namespace="shared-other", content="zebra other after"))
    result = await store.rollback(NS, snapshot.snapshot_id, scope=Scope("ops"))

    assert (result.memories_removed, result.memories_restored) == (1, 1)
    assert (result.facts_restored, result.facts_removed) == (2, 1)
    assert await memories_of(store, NS) == before_memories
    assert await facts_of(store, NS) == before_facts
    assert (await store.get_memory(doomed.memory_id)) == doomed
    with pytest.raises(NotFoundError):
        await store.get_memory(added.memory_id)
    assert (await store.get_fact(NS, "plan")).version == 3, "a rollback writes a new version"
    assert len(await memories_of(store, "shared-other")) == 2, "other namespaces are untouched"
    assert other.memory_id in await memories_of(store, "shared-other")
    hits = await store.search(SearchRequest(query="zebra", namespaces=[NS], limit=10), axis(2))
    assert {h.item_id for h in hits} == {kept.memory_id, doomed.memory_id}
    assert {h.item_id: h.vector_rank for h in hits}[doomed.memory_id] == 1, "its embedding came back"
    again = await store.rollback(NS, snapshot.snapshot_id)
    assert (again.memories_removed, again.memories_restored, again.facts_restored, again.facts_removed) == (
        0,
        0,
        0,
        0,
    )


async def test_a_rollback_can_itself_be_rolled_back(store: MemoryStore) -> None:
    await store.set_fact(NS, "plan", "a")
    first = await store.create_snapshot(NS, "a")
    await store.set_fact(NS, "plan", "b", expected_version=1)
    memory = await store.add_memory(NewMemory(namespace=NS, content="b era"))
    second = await store.create_snapshot(NS, "b")

    await store.rollback(NS, first.snapshot_id)
    assert await facts_of(store, NS) == {"plan": ("a", Sensitivity.INTERNAL)}
    await store.rollback(NS, second.snapshot_id)

    assert await facts_of(store, NS) == {"plan": ("b", Sensitivity.INTERNAL)}
    assert set(await memories_of(store, NS)) == {memory.memory_id}


async def test_snapshots_are_listed_newest_first_and_belong_to_their_namespace(store: MemoryStore) -> None:
    empty = await store.create_snapshot(NS, "empty")
    await store.set_fact(NS, "k", 1)
    full = await store.create_snapshot(NS, "one fact")
    elsewhere = await store.create_snapshot("shared-other", "x")

    listed = await collect_pages(lambda c: store.list_snapshots(NS, limit=1, cursor=c), limit=1)

    assert [s.snapshot_id for s in listed] == [full.snapshot_id, empty.snapshot_id]
    assert (empty.seq, full.seq) == (0, 1)
    with pytest.raises(NotFoundError):
        await store.rollback(NS, elsewhere.snapshot_id)
    with pytest.raises(NotFoundError):
        await store.rollback(NS, "snap_missing")
    await store.rollback(NS, empty.snapshot_id)
    assert await facts_of(store, NS) == {}


async def test_rollback_needs_write_access_and_clearance_for_what_it_changes(store: MemoryStore) -> None:
    snapshot = await store.create_snapshot(NS, "s")
    secret = await store.add_memory(
        NewMemory(namespace=NS, content="secret", sensitivity=Sensitivity.CONFIDENTIAL)
    )
    await store.set_fact(NS, "k", 1)
    reader = Scope("r", write_namespaces=())
    low = Scope("low", max_sensitivity=Sensitivity.INTERNAL)

    with pytest.raises(PermissionDeniedError):
        await store.rollback(NS, snapshot.snapshot_id, scope=reader)
    with pytest.raises(PermissionDeniedError):
        await store.create_snapshot(NS, "s", scope=reader)
    with pytest.raises(PermissionDeniedError):
        await store.rollback(NS, snapshot.snapshot_id, scope=low)

    assert await store.get_memory(secret.memory_id) == secret, "nothing changed"
    assert (await store.get_fact(NS, "k")).version == 1


async def test_branch_copies_the_snapshot_state_not_the_current_one(store: MemoryStore) -> None:
    old = await store.add_memory(NewMemory(namespace=NS, content="tariff is 10", room_id="room_1"), axis(4))
    await store.set_fact(NS, "tariff", 10)
    snapshot = await store.create_snapshot(NS, "s")
    await store.delete_memory(old.memory_id)
    await store.add_memory(NewMemory(namespace=NS, content="tariff is 12"))
    await store.set_fact(NS, "tariff", 12, expected_version=1)

    result = await store.branch(NS, snapshot.snapshot_id, "agent-test-tariff", scope=Scope("research"))

    assert (result.memories_copied, result.facts_copied) == (1, 1)
    [copy] = (await memories_of(store, "agent-test-tariff")).values()
    assert copy.memory_id != old.memory_id
    assert copy.model_dump(exclude={"memory_id", "namespace"}) == old.model_dump(
        exclude={"memory_id", "namespace"}
    )
    assert await facts_of(store, "agent-test-tariff") == {"tariff": (10, Sensitivity.INTERNAL)}
    assert (await store.get_fact(NS, "tariff")).value == 12, "the origin is untouched"
    hits = await store.search(SearchRequest(query="tariff", namespaces=["agent-test-tariff"]), axis(4))
    assert [(h.item_id, h.vector_rank) for h in hits] == [(copy.memory_id, 1)]


async def test_branch_refuses_a_used_or_same_namespace_and_needs_access(store: MemoryStore) -> None:
    await store.set_fact(NS, "k", 1)
    snapshot = await store.create_snapshot(NS, "s")
    await store.set_fact("shared-used", "k", 1)

    with pytest.raises(ConflictError):
        await store.branch(NS, snapshot.snapshot_id, "shared-used")
    with pytest.raises(InvalidInputError):
        await store.branch(NS, snapshot.snapshot_id, NS)
    with pytest.raises(NotFoundError):
        await store.branch("shared-used", snapshot.snapshot_id, "shared-new")
    with pytest.raises(PermissionDeniedError):
        await store.branch(
            NS, snapshot.snapshot_id, "shared-new", scope=Scope("x", write_namespaces=("agent-x",))
        )
    await store.branch(NS, snapshot.snapshot_id, "shared-new")
    with pytest.raises(ConflictError):
        await store.branch(NS, snapshot.snapshot_id, "shared-new")


async def test_merge_applies_branch_changes_and_reports_facts_changed_on_both_sides(
    store: MemoryStore,
) -> None:
    shared = await store.add_memory(NewMemory(namespace=NS, content="customer prefers email"))
    stale = await store.add_memory(NewMemory(namespace=NS, content="customer is on plan A"))
    for key, value in [("plan", "A"), ("region", "eu"), ("owner", "ana"), ("tier", 1)]:
        await store.set_fact(NS, key, value)
    snapshot = await store.create_snapshot(NS, "s")
    await store.branch(NS, snapshot.snapshot_id, "shared-fix")
    copies = {m.content: m for m in (await memories_of(store, "shared-fix")).values()}

    # On the branch: a corrected belief.
    await store.delete_memory(copies["customer is on plan A"].memory_id)
    added = await store.add_memory(
        NewMemory(namespace="shared-fix", content="customer is on plan B"), axis(5)
    )
    await put(store, "shared-fix", "plan", "B")
    await put(store, "shared-fix", "owner", "bo")
    await store.delete_fact("shared-fix", "tier")
    await put(store, "shared-fix", "new", True)
    # Meanwhile on the origin.
    await put(store, NS, "owner", "cy")
    await put(store, NS, "region", "us")
    result = await store.merge("shared-fix", NS, scope=Scope("lead"))

    assert (result.memories_added, result.memories_removed) == (1, 1)
    assert (result.facts_set, result.facts_removed) == (2, 1)
    [conflict] = result.conflicts
    assert (conflict.key, conflict.base, conflict.branch, conflict.target) == ("owner", "ana", "bo", "cy")
    assert conflict.target_version == 2
    assert {m.content for m in (await memories_of(store, NS)).values()} == {
        "customer prefers email",
        "customer is on plan B",
    }
    assert shared.memory_id in await memories_of(store, NS)
    with pytest.raises(NotFoundError):
        await store.get_memory(stale.memory_id)
    assert {k: v for k, (v, _) in (await facts_of(store, NS)).items()} == {
        "plan": "B",
        "region": "us",
        "owner": "cy",
        "new": True,
    }
    merged = [m for m in (await memories_of(store, NS)).values() if m.content == "customer is on plan B"]
    hits = await store.search(SearchRequest(query="plan", namespaces=[NS]), axis(5))
    assert {h.item_id: h.vector_rank for h in hits}[merged[0].memory_id] == 1

    # A second merge applies only what changed since: removing the merged memory on the branch removes
    # its copy from the origin, and nothing is duplicated.
    await store.delete_memory(added.memory_id)
    again = await store.merge("shared-fix", NS)
    assert (again.memories_added, again.memories_removed, again.facts_set, again.conflicts) == (0, 1, 0, [])
    assert {m.content for m in (await memories_of(store, NS)).values()} == {"customer prefers email"}


async def test_merge_needs_a_branch_its_origin_and_access(store: MemoryStore) -> None:
    snapshot = await store.create_snapshot(NS, "s")
    await store.branch(NS, snapshot.snapshot_id, "shared-b")

    with pytest.raises(NotFoundError):
        await store.merge("shared-not-a-branch", NS)
    with pytest.raises(InvalidInputError):
        await store.merge("shared-b", "shared-other")
    with pytest.raises(PermissionDeniedError):
        await store.merge("shared-b", NS, scope=Scope("x", write_namespaces=("shared-b",)))
    assert (await store.merge("shared-b", NS)).conflicts == []


# --- property: snapshot -> random operations -> rollback gives back exactly the snapshot's state --------

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KEYS = ["a", "b", "c"]
SENSITIVITIES = list(Sensitivity)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 7), st.sampled_from(SENSITIVITIES)),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("set"), st.sampled_from(KEYS), st.integers(-5, 5), st.sampled_from(SENSITIVITIES)),
        st.tuples(st.just("unset"), st.sampled_from(KEYS)),
    ),
    max_size=12,
)


def _namespaces() -> Iterator[str]:
    for n in itertools.count():
        yield f"shared-prop-{n}"


async def _apply(store: MemoryStore, namespace: str, ops: list[tuple[Any, ...]], word: str) -> None:
    for n, op in enumerate(ops):
        if op[0] == "add":
            memory = NewMemory(
                namespace=namespace, content=f"{word} item {n}", sensitivity=op[2], tags=[str(n)]
            )
            await store.add_memory(memory, axis(op[1]))
        elif op[0] == "delete":
            current = sorted(await memories_of(store, namespace))
            if current:
                await store.delete_memory(current[op[1] % len(current)])
        elif op[0] == "set":
            await put(store, namespace, op[1], {"n": op[2]}, sensitivity=op[3])
        else:
            with contextlib.suppress(NotFoundError):
                await store.delete_fact(namespace, op[1])


async def _state(store: MemoryStore, namespace: str, word: str) -> tuple[Any, ...]:
    hits = await store.search(SearchRequest(query=word, namespaces=[namespace], limit=100), axis(0))
    return (
        await memories_of(store, namespace),
        await facts_of(store, namespace),
        sorted(h.item_id for h in hits if h.lexical_rank is not None),
        sorted(h.item_id for h in hits if h.vector_rank is not None),
    )


@PROPERTY
@given(before=operations, after=operations)
async def test_rollback_gives_back_exactly_the_snapshot_state(
    store: MemoryStore, before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    namespace = next(NAMESPACES)
    word = "zq" + namespace.rsplit("-", 1)[1].translate(str.maketrans("0123456789", "bcdfghjklm")) + "x"
    await _apply(store, namespace, before, word)
    snapshot = await store.create_snapshot(namespace, "property")
    expected = await _state(store, namespace, word)

    await _apply(store, namespace, after, word)
    await store.rollback(namespace, snapshot.snapshot_id)

    assert await _state(store, namespace, word) == expected


NAMESPACES = _namespaces()


def _content(memories: dict[str, Memory]) -> list[tuple[Any, ...]]:
    """Memories without id and namespace (what a branch or merge copy keeps), sorted."""
    return sorted(
        (m.content, m.kind, m.tags, m.sensitivity, m.importance, m.created_at) for m in memories.values()
    )


@PROPERTY
@given(before=operations, after=operations)
async def test_a_branch_holds_exactly_the_snapshot_state(
    store: MemoryStore, before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    namespace = next(NAMESPACES)
    await _apply(store, namespace, before, "zqbranchx")
    snapshot = await store.create_snapshot(namespace, "property")
    expected = (_content(await memories_of(store, namespace)), await facts_of(store, namespace))

    await _apply(store, namespace, after, "zqbranchx")
    await store.branch(namespace, snapshot.snapshot_id, f"{namespace}-branch")

    branch = f"{namespace}-branch"
    assert (_content(await memories_of(store, branch)), await facts_of(store, branch)) == expected


@PROPERTY
@given(before=operations, on_branch=operations)
async def test_merging_into_an_unchanged_origin_makes_it_equal_the_branch(
    store: MemoryStore, before: list[tuple[Any, ...]], on_branch: list[tuple[Any, ...]]
) -> None:
    namespace = next(NAMESPACES)
    branch = f"{namespace}-branch"
    await _apply(store, namespace, before, "zqmergex")
    snapshot = await store.create_snapshot(namespace, "property")
    await store.branch(namespace, snapshot.snapshot_id, branch)

    await _apply(store, branch, on_branch, "zqmergex")
    result = await store.merge(branch, namespace)

    assert result.conflicts == []
    assert _content(await memories_of(store, namespace)) == _content(await memories_of(store, branch))
    assert await facts_of(store, namespace) == await facts_of(store, branch)
    again = await store.merge(branch, namespace)
    assert (again.memories_added, again.memories_removed, again.facts_set, again.facts_removed) == (
        0,
        0,
        0,
        0,
    )


async def test_writes_racing_a_rollback_are_either_undone_by_it_or_applied_after_it(
    store_factory: StoreFactory,
) -> None:
    url = await store_factory.new_url()
    first, second = await store_factory.open(url), await store_factory.open(url)
    await first.add_memory(NewMemory(namespace=NS, content="kept"))
    snapshot = await first.create_snapshot(NS, "s")
    for i in range(5):
        await first.add_memory(NewMemory(namespace=NS, content=f"churn {i}"))
    added: list[str] = []
    results = []

    async def writer() -> None:
        for i in range(20):
            added.append((await second.add_memory(NewMemory(namespace=NS, content=f"racer {i}"))).memory_id)

    async def roll() -> None:
        await anyio.sleep(0.01)
        results.append(await first.rollback(NS, snapshot.snapshot_id))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer)
            tg.start_soon(roll)

    [result] = results
    undone_racers = result.memories_removed - 5
    print(f"racing adds undone by the rollback: {undone_racers} of 20")
    remaining = await memories_of(second, NS)
    assert 0 <= undone_racers <= 20
    assert "kept" in {m.content for m in remaining.values()}
    assert not any(m.content.startswith("churn") for m in remaining.values())
    survivors = [i for i in added if i in remaining]
    assert len(survivors) == 20 - undone_racers, "every racing add is undone by the rollback or kept after it"
    assert survivors == added[undone_racers:], "the ones committed after the rollback are the ones kept"
    assert len(remaining) == 1 + len(survivors)
