"""The in-process vector index (usearch) and its keeper on a real SQLite store: build, follow, save, reload."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import numpy as np
import pytest

from storage import open_store
from storage.ann import AnnPlan
from storage.models import NewMemory
from storage.sqlite import SQLiteStore
from storage.vector_index import USearchIndex

DIMS = 8


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIMS)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_usearch_index_adds_replaces_removes_and_finds_nearest() -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng, 50)
    index = USearchIndex(DIMS)
    index.add(list(range(50)), vectors)
    assert len(index) == 50
    assert index.search(vectors[7], 1)[0].key == 7
    index.add([7], vectors[8:9])  # replace: key 7 now holds vector 8
    assert len(index) == 50
    assert {h.key for h in index.search(vectors[8], 2)} == {7, 8}
    index.remove([7, 999])
    assert len(index) == 49
    assert all(h.key != 7 for h in index.search(vectors[8], 49))
    assert index.memory_bytes > 0


def test_plan_ranks_read_back_rows_exactly_and_falls_back_when_short() -> None:
    rng = np.random.default_rng(2)
    vectors = unit(rng, 100)
    index = USearchIndex(DIMS)
    index.add(list(range(100)), vectors)
    plan = AnnPlan(index, vectors[3], 5, 100, 1.0, lambda r: ("memory", str(r)), exact_below=0)
    keys = plan.keys()
    assert keys is not None
    assert 3 in keys
    # The backend keeps only even keys (its WHERE); key 3 is hidden and must not come back.
    plan.feed([(k, vectors[k].tobytes()) for k in keys if k % 2 == 0])
    while (more := plan.keys()) is not None:
        plan.feed([(k, vectors[k].tobytes()) for k in more if k % 2 == 0])
    assert not plan.exact
    result = plan.result
    assert result is not None
    assert len(result) == 5
    assert all(k % 2 == 0 for k in result)
    sims = vectors @ vectors[3]
    expected = sorted((k for k in range(0, 100, 2)), key=lambda k: -sims[k])[:5]
    assert result == expected
    # Nothing passes the WHERE: after MAX_FETCH the exact path is asked for (index holds more keys).
    big = USearchIndex(DIMS)
    many = unit(rng, 5000)
    big.add(list(range(5000)), many)
    starved = AnnPlan(big, many[0], 5, 5000, 1.0, lambda r: ("memory", str(r)), exact_below=0)
    while starved.keys() is not None:
        starved.feed([])
    assert starved.exact
    assert starved.result is None


async def wait_ready(store: SQLiteStore, items: int | None = None) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = (await store.describe())["vector_index"]
        if info["state"] == "ready" and (items is None or info["items"] == items):
            return dict(info)
        await anyio.sleep(0.05)
    raise AssertionError(f"index not ready: {info}")


@pytest.mark.slow
@pytest.mark.anyio
async def test_keeper_follows_writes_deletes_of_other_handles_and_reloads_saved_copy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    rng = np.random.default_rng(3)
    vectors = unit(rng, 30)
    writer = await open_store(url, embedding_dimensions=DIMS, vector_index=False)
    ids = [
        (await writer.add_memory(NewMemory(namespace="ns", content=f"m{i}"), vectors[i].tolist())).memory_id
        for i in range(20)
    ]
    reader = await open_store(url, embedding_dimensions=DIMS)
    assert isinstance(reader, SQLiteStore)
    await wait_ready(reader, 20)
    # Writes of another handle (its own connection, as another process would) reach the index.
    for i in range(20, 30):
        await writer.add_memory(NewMemory(namespace="ns", content=f"m{i}"), vectors[i].tolist())
    await writer.delete_memory(ids[0])
    await wait_ready(reader, 29)
    await reader.close()
    saved = tmp_path / "m.db.vectors.json"
    assert saved.exists()
    # A write while no reader is open is replayed from the log after loading the saved copy.
    await writer.delete_memory(ids[1])
    again = await open_store(url, embedding_dimensions=DIMS)
    assert isinstance(again, SQLiteStore)
    info = await wait_ready(again, 28)
    assert info["cursor"] == 32  # 30 inserts and 2 deletes logged
    await again.close()
    await writer.close()
