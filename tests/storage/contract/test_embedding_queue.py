"""The embedding queue: items written without a vector are listed oldest first and filled later (issue 15).

A write that commits its search document without a vector has queued it in its own transaction (durable:
nothing to lose on a restart); ``fill_embeddings`` gives vectors to items that still have none.
"""

from __future__ import annotations

import pytest

from storage import InvalidInputError, MemoryStore
from storage.models import NewEvent, NewMemory, NewRoom, SearchRequest, StagedEmbedding
from tests.storage.contract.support import axis

pytestmark = pytest.mark.anyio


async def test_items_without_a_vector_are_queued_filled_once_and_then_found_by_vector(
    store: MemoryStore,
) -> None:
    embedded = await store.add_memory(NewMemory(namespace="ns", content="has one"), axis(0))
    first = await store.add_memory(NewMemory(namespace="ns", content="alpha"))
    room = await store.create_room(NewRoom(name="r"))
    event = (await store.append_event(NewEvent(room_id=room.room_id, content="beta"))).event
    gone = await store.add_memory(NewMemory(namespace="ns", content="gamma"))
    await store.delete_memory(gone.memory_id)

    queued = await store.unembedded_batch(limit=10)
    assert [(q.item_type, q.item_id) for q in queued] == [
        ("memory", first.memory_id),
        ("event", event.event_id),
    ]
    assert queued[0].memory is not None
    assert queued[0].memory.content == "alpha"
    assert queued[1].event is not None
    assert embedded.memory_id not in {q.item_id for q in queued}
    assert [q.item_id for q in await store.unembedded_batch(limit=1)] == [first.memory_id]

    vectors = [
        StagedEmbedding(item_type="memory", item_id=first.memory_id, embedding=axis(1)),
        StagedEmbedding(item_type="event", item_id=event.event_id, embedding=axis(2)),
        StagedEmbedding(item_type="memory", item_id=gone.memory_id, embedding=axis(3)),
    ]
    assert await store.fill_embeddings(vectors) == 2
    assert await store.unembedded_batch(limit=10) == []
    assert await store.fill_embeddings(vectors[:1]) == 0  # already embedded: not overwritten
    hits = await store.search(SearchRequest(query="?", limit=1), axis(1))
    assert [h.item_id for h in hits] == [first.memory_id]


async def test_a_vector_of_another_size_fills_nothing(store: MemoryStore) -> None:
    await store.add_memory(NewMemory(namespace="ns", content="sized"), axis(0))
    later = await store.add_memory(NewMemory(namespace="ns", content="later"))
    with pytest.raises(InvalidInputError):
        await store.fill_embeddings(
            [StagedEmbedding(item_type="memory", item_id=later.memory_id, embedding=[1.0, 0.0])]
        )
    assert [q.item_id for q in await store.unembedded_batch()] == [later.memory_id]
    with pytest.raises(InvalidInputError):
        await store.unembedded_batch(limit=0)
