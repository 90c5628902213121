"""Re-embedding a store with another model (``ReindexStore``): staged, resumable, switched atomically.

The stores start with 8-dimensional vectors (model "model-a"); the reindex moves them to 5-dimensional
vectors of "model-b" (a size change: the vector index must follow).
"""

from __future__ import annotations

import math

import pytest

from storage import ConflictError, InvalidInputError, MemoryStore
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.models import NewEvent, NewMemory, NewRoom, ReindexItem, SearchRequest, StagedEmbedding
from tests.storage.contract.conftest import StoreFactory
from tests.storage.contract.support import axis

pytestmark = pytest.mark.anyio

NEW_DIMENSIONS = 5


def new_axis(i: int, lean: int | None = None) -> list[float]:
    values = [0.0] * NEW_DIMENSIONS
    values[i] = 1.0
    if lean is not None:
        values[lean] = 0.3
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


async def seed(store: MemoryStore) -> dict[str, str]:
    """Three memories and two events with 8-dim vectors; return content -> item id."""
    await store.set_meta(EMBEDDING_MODEL_KEY, "model-a")
    ids: dict[str, str] = {}
    for i, text in enumerate(["alpha note", "beta note", "gamma note"]):
        memory = await store.add_memory(NewMemory(namespace="shared-x", content=text), axis(i))
        ids[text] = memory.memory_id
    room = await store.create_room(NewRoom(name="case"))
    for i, text in enumerate(["delta turn", "epsilon turn"], start=3):
        result = await store.append_event(NewEvent(room_id=room.room_id, content=text), axis(i))
        ids[text] = result.event.event_id
    return ids


def content(item: ReindexItem) -> str:
    record = item.memory if item.memory is not None else item.event
    assert record is not None
    return record.content


NEW_VECTORS = {
    "alpha note": new_axis(4),
    "beta note": new_axis(3),
    "gamma note": new_axis(2),
    "delta turn": new_axis(1),
    "epsilon turn": new_axis(0),
}


async def stage_all(store: MemoryStore, *, limit: int = 2) -> int:
    staged = 0
    after: tuple[str, str] | None = None
    while batch := await store.reindex_batch(after=after, limit=limit):
        assert len(batch) <= limit
        staged += await store.stage_embeddings(
            [
                StagedEmbedding(item_type=i.item_type, item_id=i.item_id, embedding=NEW_VECTORS[content(i)])
                for i in batch
            ]
        )
        after = batch[-1].key
    return staged


async def top(store: MemoryStore, vector: list[float]) -> str:
    hits = await store.search(SearchRequest(query="zzzz", include_events=True, limit=5), vector)
    best = hits[0]
    record = best.memory if best.memory is not None else best.event
    assert record is not None
    assert best.vector_rank == 1
    return record.content


async def test_reindex_stages_in_batches_then_switches_model_and_size_at_once(store: MemoryStore) -> None:
    await seed(store)
    begun = await store.begin_reindex("model-b", NEW_DIMENSIONS)
    assert (begun.model, begun.dimensions, begun.items, begun.staged) == ("model-b", NEW_DIMENSIONS, 5, 0)
    batch = await store.reindex_batch(limit=10)
    assert sorted(content(i) for i in batch) == sorted(NEW_VECTORS)
    assert [i.key for i in batch] == sorted(i.key for i in batch)
    assert await stage_all(store) == 5
    # Staged vectors are not live: the old model still answers, with its own size.
    assert await top(store, axis(0)) == "alpha note"
    with pytest.raises(InvalidInputError):
        await store.search(SearchRequest(query="zzzz"), new_axis(0))
    finished = await store.finish_reindex()
    assert (finished.items, finished.staged) == (5, 5)
    assert await store.get_meta(EMBEDDING_MODEL_KEY) == "model-b"
    assert await store.get_meta(EMBEDDING_DIMENSIONS_KEY) == str(NEW_DIMENSIONS)
    assert await store.reindex_progress() is None
    assert await top(store, new_axis(0)) == "epsilon turn"
    assert await top(store, new_axis(4)) == "alpha note"
    with pytest.raises(InvalidInputError):
        await store.search(SearchRequest(query="zzzz"), axis(0))
    # New writes take vectors of the new size only.
    await store.add_memory(NewMemory(namespace="shared-x", content="after"), new_axis(1, lean=0))
    with pytest.raises(InvalidInputError):
        await store.add_memory(NewMemory(namespace="shared-x", content="old size"), axis(1))


async def test_an_interrupted_reindex_resumes_with_the_same_target_and_restarts_with_another(
    store_factory: StoreFactory,
) -> None:
    url = await store_factory.new_url()
    store = await store_factory.open(url)
    await seed(store)
    await store.begin_reindex("model-b", NEW_DIMENSIONS)
    first = await store.reindex_batch(limit=2)
    assert (
        await store.stage_embeddings(
            [
                StagedEmbedding(item_type=i.item_type, item_id=i.item_id, embedding=NEW_VECTORS[content(i)])
                for i in first
            ]
        )
        == 2
    )
    await store.close()  # the "crash"
    again = await store_factory.open(url)
    resumed = await again.begin_reindex("model-b", NEW_DIMENSIONS)
    assert (resumed.items, resumed.staged) == (5, 2)
    assert await again.reindex_progress() == resumed
    left = await again.reindex_batch(limit=10)
    assert {i.key for i in left}.isdisjoint({i.key for i in first})
    assert len(left) == 3
    other = await again.begin_reindex("model-c", NEW_DIMENSIONS)
    assert (other.model, other.staged) == ("model-c", 0)


async def test_finishing_with_unstaged_items_is_a_conflict_that_changes_nothing(store: MemoryStore) -> None:
    await seed(store)
    await store.begin_reindex("model-b", NEW_DIMENSIONS)
    await stage_all(store)
    late = await store.add_memory(NewMemory(namespace="shared-x", content="late"), axis(7))
    with pytest.raises(ConflictError, match="1 items have no staged vector"):
        await store.finish_reindex()
    assert await store.get_meta(EMBEDDING_MODEL_KEY) == "model-a"
    assert await top(store, axis(7)) == "late"
    batch = await store.reindex_batch(limit=10)
    assert [i.item_id for i in batch] == [late.memory_id]
    await store.stage_embeddings(
        [StagedEmbedding(item_type="memory", item_id=late.memory_id, embedding=new_axis(1))]
    )
    assert (await store.finish_reindex()).items == 6
    assert await store.get_meta(EMBEDDING_MODEL_KEY) == "model-b"


async def test_staging_checks_the_target_size_and_writes_nothing_of_a_bad_batch(store: MemoryStore) -> None:
    ids = await seed(store)
    await store.begin_reindex("model-b", NEW_DIMENSIONS)
    good = StagedEmbedding(item_type="memory", item_id=ids["alpha note"], embedding=new_axis(0))
    bad = StagedEmbedding(item_type="memory", item_id=ids["beta note"], embedding=axis(0))
    with pytest.raises(InvalidInputError):
        await store.stage_embeddings([good, bad])
    progress = await store.reindex_progress()
    assert progress is not None
    assert progress.staged == 0
    gone = StagedEmbedding(item_type="memory", item_id="mem_does_not_exist", embedding=new_axis(0))
    assert await store.stage_embeddings([good, gone]) == 1


async def test_reindex_steps_without_a_begun_reindex_are_refused(store: MemoryStore) -> None:
    assert await store.reindex_progress() is None
    with pytest.raises(InvalidInputError, match="no reindex is in progress"):
        await store.reindex_batch()
    with pytest.raises(InvalidInputError, match="no reindex is in progress"):
        await store.stage_embeddings([])
    with pytest.raises(InvalidInputError, match="no reindex is in progress"):
        await store.finish_reindex()
    with pytest.raises(InvalidInputError):
        await store.begin_reindex("", 3)


async def test_a_store_without_vectors_gets_them_from_a_reindex(store: MemoryStore) -> None:
    memory = await store.add_memory(NewMemory(namespace="shared-x", content="lexical only"))
    assert await store.search(SearchRequest(query="zzzz"), axis(0)) == []
    await store.begin_reindex("model-b", NEW_DIMENSIONS)
    batch = await store.reindex_batch()
    assert [i.item_id for i in batch] == [memory.memory_id]
    await store.stage_embeddings(
        [StagedEmbedding(item_type="memory", item_id=memory.memory_id, embedding=new_axis(2))]
    )
    await store.finish_reindex()
    assert await top(store, new_axis(2)) == "lexical only"


async def test_a_memory_restored_by_rollback_after_a_reindex_comes_back_without_an_old_vector(
    store: MemoryStore,
) -> None:
    ids = await seed(store)
    snapshot = await store.create_snapshot("shared-x", "before cleanup")
    await store.delete_memory(ids["gamma note"])
    await store.begin_reindex("model-b", NEW_DIMENSIONS)
    await stage_all(store)
    await store.finish_reindex()
    await store.rollback("shared-x", snapshot.snapshot_id)
    restored = await store.get_memory(ids["gamma note"])
    assert restored.content == "gamma note"
    # Found by its words; no 8-dim vector of the old model came back into the 5-dim ranking.
    hits = await store.search(SearchRequest(query="gamma", limit=5), new_axis(2))
    by_id = {h.item_id: h for h in hits}
    assert by_id[ids["gamma note"]].vector_rank is None
    assert by_id[ids["gamma note"]].lexical_rank == 1
    # The next reindex gives it a vector of the store's model.
    await store.begin_reindex("model-b", NEW_DIMENSIONS)
    await stage_all(store)
    await store.finish_reindex()
    assert await top(store, new_axis(2)) == "gamma note"
