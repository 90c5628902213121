"""Memories filtered by what they were recorded for and by (task, authors, excluded authors), in listings
and in both search candidate lists, on every backend."""

from __future__ import annotations

import pytest

from storage import MemoryStore
from storage.models import MemoryFilter, NewMemory, SearchRequest
from tests.storage.contract.support import axis

pytestmark = pytest.mark.anyio


async def _seed(store: MemoryStore) -> dict[str, str]:
    made = {}
    for name, author, task in [
        ("mine", "triage", "task_1"),
        ("billing", "billing", "task_1"),
        ("other_task", "billing", "task_2"),
        ("anonymous", None, "task_1"),
    ]:
        memory = await store.add_memory(
            NewMemory(
                namespace="shared-ops", content=f"refund observation {name}", author=author, task_id=task
            ),
            embedding=axis(1),
        )
        made[name] = memory.memory_id
    return made


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (MemoryFilter(task_id="task_1"), {"mine", "billing", "anonymous"}),
        (MemoryFilter(authors=["billing"]), {"billing", "other_task"}),
        (MemoryFilter(task_id="task_1", exclude_authors=["triage"]), {"billing", "anonymous"}),
        (MemoryFilter(exclude_authors=["triage", "billing"]), {"anonymous"}),
    ],
)
async def test_task_and_author_filters_apply_to_listing_and_search(
    store: MemoryStore, filters: MemoryFilter, expected: set[str]
) -> None:
    made = await _seed(store)
    names = {v: k for k, v in made.items()}
    listed = await store.list_memories(filters, limit=50)
    assert {names[m.memory_id] for m in listed.items} == expected
    request = SearchRequest(query="refund observation", include_events=True, **filters.model_dump())
    for vector in (None, axis(1)):
        hits = await store.search(request, vector)
        assert {names[h.item_id] for h in hits} == expected
