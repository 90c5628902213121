"""Memories: add, get, delete, list with filters and cursors, and the caller's scope."""

from __future__ import annotations

import pytest

from storage import InvalidInputError, MemoryStore, NotFoundError, PermissionDeniedError, Scope
from storage.models import MemoryFilter, NewMemory, SearchRequest, Sensitivity
from tests.storage.contract.support import FILTER_CASES, axis, collect_pages, filter_fixture, is_utc

pytestmark = pytest.mark.anyio

EVERYTHING = MemoryFilter()


async def _all(
    store: MemoryStore, filters: MemoryFilter = EVERYTHING, scope: Scope | None = None
) -> list[str]:
    items = await collect_pages(
        lambda c: store.list_memories(filters, limit=100, cursor=c, scope=scope), limit=100
    )
    return [m.memory_id for m in items]


async def test_add_memory_returns_the_stored_record(store: MemoryStore) -> None:
    memory = await store.add_memory(
        NewMemory(
            namespace="shared-customer-context",
            content="Customer prefers email over phone.",
            kind="observation",
            session_id="sess-1",
            tags=["contact", "preference"],
            metadata={"source": "call", "score": 3, "ok": True, "deep": {"x": [1, None]}},
            sensitivity=Sensitivity.CONFIDENTIAL,
            importance=0.8,
            author="triage",
            room_id="room_1",
            task_id="task_1",
        ),
        embedding=axis(2),
    )

    assert memory.memory_id.startswith("mem_")
    assert memory.namespace == "shared-customer-context"
    assert memory.content == "Customer prefers email over phone."
    assert memory.kind == "observation"
    assert memory.session_id == "sess-1"
    assert memory.tags == ["contact", "preference"]
    assert memory.metadata == {"source": "call", "score": 3, "ok": True, "deep": {"x": [1, None]}}
    assert memory.sensitivity is Sensitivity.CONFIDENTIAL
    assert memory.importance == pytest.approx(0.8)
    assert memory.author == "triage"
    assert memory.room_id == "room_1"
    assert memory.task_id == "task_1"
    assert is_utc(memory.created_at)
    assert is_utc(memory.updated_at)
    assert await store.get_memory(memory.memory_id) == memory


async def test_add_memory_defaults(store: MemoryStore) -> None:
    memory = await store.add_memory(NewMemory(namespace="agent-billing", content="x"))

    assert memory.kind == "note"
    assert memory.tags == []
    assert memory.metadata == {}
    assert memory.sensitivity is Sensitivity.INTERNAL
    assert memory.importance == pytest.approx(0.5)
    assert memory.session_id is None


async def test_get_memory_of_an_unknown_id_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.get_memory("mem_missing")


async def test_add_memory_outside_the_writable_namespaces_is_denied_and_writes_nothing(
    store: MemoryStore,
) -> None:
    scope = Scope(agent="billing", write_namespaces=("agent-billing", "shared-*"))

    with pytest.raises(PermissionDeniedError):
        await store.add_memory(NewMemory(namespace="agent-triage", content="sneaky"), scope=scope)

    assert await _all(store) == []


async def test_add_memory_above_the_clearance_is_denied_and_writes_nothing(store: MemoryStore) -> None:
    scope = Scope(agent="billing", max_sensitivity=Sensitivity.INTERNAL)

    with pytest.raises(PermissionDeniedError):
        await store.add_memory(
            NewMemory(namespace="agent-billing", content="card", sensitivity=Sensitivity.CONFIDENTIAL),
            scope=scope,
        )

    assert await _all(store) == []


async def test_add_memory_inside_the_scope_succeeds(store: MemoryStore) -> None:
    scope = Scope(agent="billing", write_namespaces=("agent-billing", "shared-*"))

    memory = await store.add_memory(NewMemory(namespace="shared-customer-context", content="x"), scope=scope)

    assert await store.get_memory(memory.memory_id, scope=scope) == memory


async def test_add_memory_with_a_wrong_embedding_size_writes_nothing(store: MemoryStore) -> None:
    with pytest.raises(InvalidInputError):
        await store.add_memory(NewMemory(namespace="agent-billing", content="x"), embedding=[0.5] * 9)

    assert await _all(store) == []


async def test_memories_outside_the_read_scope_or_clearance_are_not_found(store: MemoryStore) -> None:
    triage = await store.add_memory(NewMemory(namespace="agent-triage", content="x"))
    secret = await store.add_memory(
        NewMemory(namespace="agent-billing", content="x", sensitivity=Sensitivity.CONFIDENTIAL)
    )
    scope = Scope(agent="billing", read_namespaces=("agent-billing",), max_sensitivity=Sensitivity.INTERNAL)

    with pytest.raises(NotFoundError):
        await store.get_memory(triage.memory_id, scope=scope)
    with pytest.raises(NotFoundError):
        await store.get_memory(secret.memory_id, scope=scope)
    assert await _all(store, scope=scope) == []


async def test_delete_memory_removes_it_and_its_search_entries(store: MemoryStore) -> None:
    kept = await store.add_memory(NewMemory(namespace="agent-billing", content="refund approved"), axis(0))
    gone = await store.add_memory(NewMemory(namespace="agent-billing", content="refund denied"), axis(0))

    deleted = await store.delete_memory(gone.memory_id)

    assert deleted == gone
    with pytest.raises(NotFoundError):
        await store.get_memory(gone.memory_id)
    with pytest.raises(NotFoundError):
        await store.delete_memory(gone.memory_id)
    hits = await store.search(SearchRequest(query="refund"), query_embedding=axis(0))
    assert [h.item_id for h in hits] == [kept.memory_id]
    assert await _all(store) == [kept.memory_id]


async def test_delete_memory_visible_but_not_writable_is_denied_and_keeps_it(store: MemoryStore) -> None:
    memory = await store.add_memory(NewMemory(namespace="shared-policies", content="x"))
    reader = Scope(agent="billing", read_namespaces=("shared-*",), write_namespaces=("agent-billing",))

    with pytest.raises(PermissionDeniedError):
        await store.delete_memory(memory.memory_id, scope=reader)

    assert await store.get_memory(memory.memory_id) == memory


async def test_delete_memory_outside_the_read_scope_is_not_found_and_keeps_it(store: MemoryStore) -> None:
    memory = await store.add_memory(NewMemory(namespace="agent-triage", content="x"))
    other = Scope(agent="billing", read_namespaces=("agent-billing",), write_namespaces=("*",))

    with pytest.raises(NotFoundError):
        await store.delete_memory(memory.memory_id, scope=other)

    assert await store.get_memory(memory.memory_id) == memory


async def test_list_memories_pages_newest_first(store: MemoryStore) -> None:
    added = [await store.add_memory(NewMemory(namespace="agent-billing", content=f"m{i}")) for i in range(7)]
    expected = sorted(added, key=lambda m: (m.created_at, m.memory_id), reverse=True)

    listed = await collect_pages(lambda c: store.list_memories(EVERYTHING, limit=3, cursor=c), limit=3)

    assert [m.memory_id for m in listed] == [m.memory_id for m in expected]


async def test_list_memories_refuses_a_cursor_it_did_not_make(store: MemoryStore) -> None:
    with pytest.raises(InvalidInputError):
        await store.list_memories(EVERYTHING, cursor="%%%garbage")


@pytest.mark.parametrize("case", list(FILTER_CASES))
async def test_list_memories_applies_each_filter(store: MemoryStore, case: str) -> None:
    memories = await filter_fixture(store)
    filters, expected = FILTER_CASES[case]

    listed = await _all(store, filters)

    assert set(listed) == {memories[name].memory_id for name in expected}
    assert len(listed) == len(set(listed))


async def test_list_memories_time_range_is_half_open(store: MemoryStore) -> None:
    added = [await store.add_memory(NewMemory(namespace="agent-billing", content=f"m{i}")) for i in range(4)]
    times = sorted(m.created_at for m in added)
    assert len(set(times)) == 4, "memories written one after another have distinct created_at"
    by_time = {m.created_at: m.memory_id for m in added}

    listed = await _all(store, MemoryFilter(created_after=times[1], created_before=times[3]))

    assert set(listed) == {by_time[times[1]], by_time[times[2]]}


async def test_namespace_patterns_have_star_as_their_only_wildcard(store: MemoryStore) -> None:
    """Scope and filter patterns match like ``storage.patterns.namespace_matches``: ``_`` (LIKE), ``?``
    and ``[`` (GLOB) are literal characters, ``*`` is any run (also an empty one)."""
    names = ["team_a", "team_a-1", "teamxa-1", "other"]
    ids = {ns: (await store.add_memory(NewMemory(namespace=ns, content="x"))).memory_id for ns in names}
    scope = Scope(agent="reader", read_namespaces=("team_a*",))

    assert set(await _all(store, scope=scope)) == {ids["team_a"], ids["team_a-1"]}
    assert set(await _all(store, MemoryFilter(namespaces=["*a-1"]))) == {ids["team_a-1"], ids["teamxa-1"]}
    assert set(await _all(store, MemoryFilter(namespaces=["team_a", "oth*"]))) == {
        ids["team_a"],
        ids["other"],
    }
    for literal in ["team?a*", "t[e]am_a*", "team%a*", "team\\_a*"]:
        assert await _all(store, MemoryFilter(namespaces=[literal])) == [], literal
    assert await _all(store, scope=Scope(agent="nobody", read_namespaces=())) == []
