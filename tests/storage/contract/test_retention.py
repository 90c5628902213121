"""Retention: per-namespace counts, pruning by time-to-live and size, and namespace decay in search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import InvalidInputError, MemoryStore, NotFoundError
from storage.models import DecayRule, MemoryFilter, NewMemory, SearchRequest, utc_now
from tests.storage.contract.support import collect_pages

pytestmark = pytest.mark.anyio

NS = "shared-leads"


async def _ids(store: MemoryStore, namespace: str = NS) -> set[str]:
    items = await collect_pages(
        lambda c: store.list_memories(MemoryFilter(namespaces=[namespace]), limit=100, cursor=c), limit=100
    )
    return {m.memory_id for m in items}


async def _add(store: MemoryStore, content: str, importance: float = 0.5, namespace: str = NS) -> str:
    memory = await store.add_memory(NewMemory(namespace=namespace, content=content, importance=importance))
    return memory.memory_id


async def test_namespace_counts_lists_every_namespace_with_memories(store: MemoryStore) -> None:
    assert await store.namespace_counts() == []
    for namespace, n in [("shared-b", 2), ("agent-a", 1)]:
        for i in range(n):
            await _add(store, f"m{i}", namespace=namespace)
    counts = await store.namespace_counts()
    assert [(c.namespace, c.memories) for c in counts] == [("agent-a", 1), ("shared-b", 2)]
    assert all(c.oldest_at <= utc_now() for c in counts)


async def test_prune_keeps_the_most_important_then_newest_beyond_max_memories(store: MemoryStore) -> None:
    low_old = await _add(store, "low old", 0.1)
    high_old = await _add(store, "high old", 0.9)
    low_new = await _add(store, "low new", 0.1)
    mid = await _add(store, "mid", 0.5)
    other = await _add(store, "elsewhere", 0.0, namespace="shared-other")

    preview = await store.prune_namespace(NS, max_memories=2, dry_run=True)
    assert [(p.memory_id, p.reason) for p in preview] == [(low_old, "over_limit"), (low_new, "over_limit")]
    assert await _ids(store) == {low_old, high_old, low_new, mid}  # a dry run changes nothing

    pruned = await store.prune_namespace(NS, max_memories=2)
    assert pruned == preview
    assert await _ids(store) == {high_old, mid}
    assert await _ids(store, "shared-other") == {other}
    with pytest.raises(NotFoundError):
        await store.get_memory(low_old)
    hits = await store.search(SearchRequest(query="low"))
    assert [h.item_id for h in hits] == []  # search entries went with the memories
    assert await store.prune_namespace(NS, max_memories=2) == []
    with pytest.raises(InvalidInputError):
        await store.prune_namespace(NS, max_memories=-1)


async def test_prune_removes_expired_memories_first(store: MemoryStore) -> None:
    first = await _add(store, "first", 0.9)
    second = await _add(store, "second", 0.2)
    cutoff = utc_now()
    third = await _add(store, "third", 0.1)
    fourth = await _add(store, "fourth", 0.8)
    pruned = await store.prune_namespace(NS, expires_before=cutoff, max_memories=1)
    assert [(p.memory_id, p.reason) for p in pruned] == [
        (first, "expired"),
        (second, "expired"),
        (third, "over_limit"),
    ]
    assert await _ids(store) == {fourth}
    everything = await store.prune_namespace(NS, expires_before=utc_now() + timedelta(days=1))
    assert [p.memory_id for p in everything] == [fourth]


async def test_a_rollback_brings_pruned_memories_back(store: MemoryStore) -> None:
    keep = await _add(store, "keep", 0.9)
    drop = await _add(store, "drop", 0.1)
    snapshot = await store.create_snapshot(NS, "before pruning")
    await store.prune_namespace(NS, max_memories=1)
    assert await _ids(store) == {keep}
    await store.rollback(NS, snapshot.snapshot_id)
    assert await _ids(store) == {keep, drop}


async def test_namespace_decay_rules_lower_old_memories_in_search(store: MemoryStore) -> None:
    fading = await _add(store, "quarterly plan for acme", namespace="shared-news")
    lasting = await _add(store, "quarterly plan for acme", namespace="shared-policy")
    later = utc_now() + timedelta(hours=240)
    plain = await store.search(SearchRequest(query="quarterly plan", now=later))
    assert sorted(h.item_id for h in plain) == sorted([fading, lasting])
    rules = [DecayRule(namespace_pattern="shared-n*", strategy="exponential", half_life_hours=24)]
    decayed = await store.search(SearchRequest(query="quarterly plan", now=later, decay_rules=rules))
    assert [h.item_id for h in decayed] == [lasting, fading]
    score = {h.item_id: h.score for h in decayed}
    base = {h.item_id: h.score for h in plain}
    assert score[lasting] == pytest.approx(base[lasting])
    assert score[fading] == pytest.approx(base[fading] * 0.5 ** (240 / 24), rel=1e-3)
    slow = [DecayRule(namespace_pattern="shared-news", strategy="logarithmic", half_life_hours=24)]
    log_hits = await store.search(SearchRequest(query="quarterly plan", now=later, decay_rules=slow))
    log_score = {h.item_id: h.score for h in log_hits}
    assert score[fading] < log_score[fading] < base[fading]
