"""The in-process vector index on both backends: it follows other handles' writes, and search through it
never hides an item the caller may see nor ranks one it may not (``storage.ann``)."""

from __future__ import annotations

import time
from typing import Any

import anyio
import numpy as np
import pytest

from storage import MemoryStore
from storage.models import NewMemory, SearchRequest, Sensitivity, StagedEmbedding
from storage.scope import Scope
from tests.storage.contract.conftest import EMBEDDING_DIMENSIONS, StoreFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

DIMS = EMBEDDING_DIMENSIONS


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIMS)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


async def wait_ready(store: MemoryStore, items: int | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    info: dict[str, Any] = {}
    while time.monotonic() < deadline:
        info = (await store.describe())["vector_index"]
        if info["state"] == "ready" and (items is None or info["items"] == items):
            return info
        await anyio.sleep(0.05)
    raise AssertionError(f"index not ready: {info}")


async def test_index_follows_writes_and_deletes_of_other_handles_and_restarts(
    store_factory: StoreFactory,
) -> None:
    rng = np.random.default_rng(3)
    vectors = unit(rng, 30)
    url = await store_factory.new_url()
    writer = await store_factory.open(url)
    ids = [
        (await writer.add_memory(NewMemory(namespace="ns", content=f"m{i}"), vectors[i].tolist())).memory_id
        for i in range(20)
    ]
    reader = await store_factory.open(url)
    await wait_ready(reader, 20)
    # Writes of another handle (its own connections, as another process would) reach the index.
    for i in range(20, 30):
        await writer.add_memory(NewMemory(namespace="ns", content=f"m{i}"), vectors[i].tolist())
    await writer.delete_memory(ids[0])
    await wait_ready(reader, 29)
    await reader.close()
    # A write while no reader is open is replayed from the log (SQLite: after loading the saved copy).
    await writer.delete_memory(ids[1])
    again = await store_factory.open(url)
    info = await wait_ready(again, 28)
    if store_factory.backend == "sqlite":
        assert info["cursor"] == 32  # 30 inserts and 2 deletes logged; loaded, then 1 change replayed


async def _corpus(store: MemoryStore, rng: np.random.Generator) -> tuple[np.ndarray, list[NewMemory]]:
    """300 memories: 3 big namespaces (one in 4 confidential), and 5 in a small one."""
    vectors = unit(rng, 305)
    items = []
    for i in range(305):
        namespace = "tiny" if i >= 300 else f"team-{i % 3}"
        sensitivity = Sensitivity.CONFIDENTIAL if i % 4 == 0 else Sensitivity.INTERNAL
        items.append(NewMemory(namespace=namespace, content=f"note {i}", sensitivity=sensitivity))
    for item, vector in zip(items, vectors, strict=True):
        await store.add_memory(item, vector.tolist())
    return vectors, items


async def test_search_through_the_index_matches_the_exact_ranking_under_filters_and_scopes(
    store_factory: StoreFactory,
) -> None:
    rng = np.random.default_rng(11)
    url = await store_factory.new_url()
    exact = await store_factory.open(url, vector_index=False)
    vectors, _ = await _corpus(exact, rng)
    fast = await store_factory.open(url)
    fast.ann_exact_below_rows = 0  # type: ignore[attr-defined]  # the index path even for small sets
    await wait_ready(fast, 305)
    scopes = [
        None,
        Scope(agent="a", read_namespaces=("team-1", "tiny")),
        Scope(agent="b", read_namespaces=("team-*",), max_sensitivity=Sensitivity.INTERNAL),
    ]
    requests = [
        SearchRequest(query="?", limit=10),
        SearchRequest(query="?", limit=10, namespaces=["tiny"]),
        SearchRequest(query="?", limit=5, namespaces=["team-2"], max_sensitivity=Sensitivity.INTERNAL),
    ]
    for q in unit(rng, 6):
        for scope in scopes:
            for request in requests:
                got = await fast.search(request, q.tolist(), scope=scope)
                want = await exact.search(request, q.tolist(), scope=scope)
                assert [h.item_id for h in got] == [h.item_id for h in want], (request, scope)
                for hit in got:
                    assert hit.memory is not None
                    assert scope is None or scope.can_read(hit.memory.namespace)
                    assert scope is None or hit.memory.sensitivity.level <= scope.max_sensitivity.level


async def test_search_through_the_index_sees_writes_and_deletes_at_once(store_factory: StoreFactory) -> None:
    rng = np.random.default_rng(12)
    url = await store_factory.new_url()
    writer = await store_factory.open(url, vector_index=False)
    await _corpus(writer, rng)
    fast = await store_factory.open(url)
    fast.ann_exact_below_rows = 0  # type: ignore[attr-defined]
    await wait_ready(fast, 305)
    new_vector = unit(rng, 1)[0]
    # Written by another handle and searched at once: the keeper has not applied it yet, but the
    # search reads back what the log shows changed since the index's position.
    fresh = await writer.add_memory(NewMemory(namespace="team-0", content="fresh"), new_vector.tolist())
    hits = await fast.search(SearchRequest(query="?", limit=3), new_vector.tolist())
    assert hits[0].item_id == fresh.memory_id
    await writer.delete_memory(fresh.memory_id)
    hits = await fast.search(SearchRequest(query="?", limit=3), new_vector.tolist())
    assert fresh.memory_id not in {h.item_id for h in hits}


async def test_after_a_reindex_to_another_size_search_uses_the_new_vectors(
    store_factory: StoreFactory,
) -> None:
    rng = np.random.default_rng(13)
    url = await store_factory.new_url()
    store = await store_factory.open(url)
    store.ann_exact_below_rows = 0  # type: ignore[attr-defined]
    await _corpus(store, rng)
    await wait_ready(store, 305)
    await store.begin_reindex("other-model", 4)
    new_vectors: dict[str, list[float]] = {}
    while batch := await store.reindex_batch(limit=200):
        staged = []
        for item in batch:
            v = rng.standard_normal(4)
            new_vectors[item.item_id] = (v / np.linalg.norm(v)).tolist()
            staged.append(
                StagedEmbedding(
                    item_type=item.item_type, item_id=item.item_id, embedding=new_vectors[item.item_id]
                )
            )
        await store.stage_embeddings(staged)
    await store.finish_reindex()
    target, vector = next(iter(new_vectors.items()))
    # At once (the index still holds the old size: exact path), and after the keeper rebuilt it.
    assert (await store.search(SearchRequest(query="?", limit=1), vector))[0].item_id == target
    info = await wait_ready(store, 305)
    deadline = time.monotonic() + 60
    while info["dimensions"] != 4 and time.monotonic() < deadline:  # the keeper rebuilds for the size
        await anyio.sleep(0.1)
        info = await wait_ready(store, 305)
    assert info["dimensions"] == 4
    assert (await store.search(SearchRequest(query="?", limit=1), vector))[0].item_id == target
