"""The in-process vector index (hnswlib) and the search plan over it (storage.ann), without a store."""

from __future__ import annotations

import numpy as np

from storage.ann import AnnPlan
from storage.vector_index import HnswIndex

DIMS = 8


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIMS)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_hnsw_index_adds_replaces_removes_and_finds_nearest() -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng, 50)
    index = HnswIndex(DIMS)
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
    index = HnswIndex(DIMS)
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
    big = HnswIndex(DIMS)
    many = unit(rng, 5000)
    big.add(list(range(5000)), many)
    starved = AnnPlan(big, many[0], 5, 5000, 1.0, lambda r: ("memory", str(r)), exact_below=0)
    while starved.keys() is not None:
        starved.feed([])
    assert starved.exact
    assert starved.result is None
