"""Invariants under random inputs (hypothesis), checked against pure-Python oracles."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import MemoryStore, NotFoundError, Scope
from storage.models import (
    AppendResult,
    Memory,
    MemoryFilter,
    NewEvent,
    NewMemory,
    NewRoom,
    SearchRequest,
    Sensitivity,
)
from tests.storage.contract.support import axis, collect_pages

pytestmark = pytest.mark.anyio

# Examples share the function-scoped store: each example uses fresh rooms, or a word of its own and an
# oracle that knows every memory stored by the earlier examples too.
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# ``_`` and ``.`` are literal characters in a namespace: ``team_*`` must not match ``teamxops``.
NAMESPACES = ["agent-a", "agent-b", "shared-x", "shared-y", "team.ops", "team_ops", "teamxops"]
PATTERNS = [*NAMESPACES, "shared-*", "agent-*", "*", "team*", "team_*", "team.*", "*ops", "nobody"]
SENSITIVITIES = list(Sensitivity)

# --- gapless indexes ---------------------------------------------------------------------------------

appends = st.lists(
    st.tuples(st.integers(0, 2), st.one_of(st.none(), st.sampled_from(["k0", "k1", "k2", "k3"]))),
    min_size=1,
    max_size=30,
)


@PROPERTY
@given(ops=appends, batch=st.integers(1, 8))
async def test_indexes_stay_gapless_under_interleaved_appends_and_retries(
    store: MemoryStore, ops: list[tuple[int, str | None]], batch: int
) -> None:
    rooms = [(await store.create_room(NewRoom())).room_id for _ in range(3)]
    results: list[tuple[int, str | None, AppendResult]] = []

    async def append(room: int, key: str | None, n: int) -> None:
        event = NewEvent(room_id=rooms[room], content=f"op {n}", idempotency_key=key)
        results.append((room, key, await store.append_event(event)))

    with anyio.fail_after(60):
        for start in range(0, len(ops), batch):
            async with anyio.create_task_group() as tg:
                for n, (room, key) in enumerate(ops[start : start + batch], start=start):
                    tg.start_soon(append, room, key, n)

    for room in range(3):
        mine = [(key, r) for r_room, key, r in results if r_room == room]
        keys = {key for key, _ in mine if key is not None}
        expected = sum(1 for key, _ in mine if key is None) + len(keys)
        events = await store.list_events(rooms[room], limit=100)
        assert [e.index for e in events] == list(range(1, expected + 1))
        assert (await store.get_room(rooms[room])).last_event_index == expected
        assert sum(r.created for _, r in mine) == expected
        by_key: dict[str, set[str]] = defaultdict(set)
        for key, r in mine:
            if key is not None:
                by_key[key].add(r.event.event_id)
        assert all(len(event_ids) == 1 for event_ids in by_key.values())
        assert {e.idempotency_key for e in events} - {None} == keys


# --- shared helpers ----------------------------------------------------------------------------------


def _words() -> Iterator[str]:
    """Distinct made-up words (``zqbbbx``, ``zqbbcx``...): a search term that only one example uses.

    Vowel-free and ending in ``x``, so neither stemmer (Porter, PostgreSQL english) changes them.
    """
    for letters in itertools.product("bcdfghjklmnpqrtvwz", repeat=3):
        yield "zq" + "".join(letters) + "x"


async def _list_all(
    store: MemoryStore, memory_filter: MemoryFilter, scope: Scope | None = None
) -> list[Memory]:
    return await collect_pages(
        lambda c: store.list_memories(memory_filter, limit=50, cursor=c, scope=scope), limit=50
    )


def _newest_first(memories: list[Memory]) -> list[str]:
    return [m.memory_id for m in sorted(memories, key=lambda m: (m.created_at, m.memory_id), reverse=True)]


# --- scope never leaks -------------------------------------------------------------------------------

memory_specs = st.lists(
    st.tuples(st.sampled_from(NAMESPACES), st.sampled_from(SENSITIVITIES), st.integers(0, 7)),
    min_size=1,
    max_size=12,
)
scopes = st.builds(
    lambda reads, clearance: Scope(agent="prop", read_namespaces=tuple(reads), max_sensitivity=clearance),
    st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3, unique=True),
    st.sampled_from(SENSITIVITIES),
)


def visible(memory: Memory, scope: Scope) -> bool:
    """The oracle: what a scope may read."""
    return scope.can_read(memory.namespace) and memory.sensitivity.level <= scope.max_sensitivity.level


@pytest.fixture
def word_source() -> Iterator[str]:
    return _words()


@PROPERTY
@given(specs=memory_specs, scope=scopes, query_axis=st.integers(0, 7))
async def test_scope_never_leaks_through_search_list_or_get(
    store: MemoryStore,
    word_source: Iterator[str],
    specs: list[tuple[str, Sensitivity, int]],
    scope: Scope,
    query_axis: int,
) -> None:
    everything = await _list_all(store, MemoryFilter())
    word = next(word_source)
    mine = [
        await store.add_memory(
            NewMemory(namespace=ns, content=f"{word} {i}", sensitivity=s), embedding=axis(vector_axis)
        )
        for i, (ns, s, vector_axis) in enumerate(specs)
    ]
    everything += mine
    all_visible = {m.memory_id for m in everything if visible(m, scope)}
    expected = {m.memory_id for m in mine if visible(m, scope)}

    listed = await _list_all(store, MemoryFilter(), scope)
    lexical = await store.search(SearchRequest(query=word, limit=100), scope=scope)
    vector = await store.search(
        SearchRequest(query="zebra", limit=100), query_embedding=axis(query_axis), scope=scope
    )
    hybrid = await store.search(
        SearchRequest(query=word, limit=100), query_embedding=axis(query_axis), scope=scope
    )

    assert [m.memory_id for m in listed] == [i for i in _newest_first(everything) if i in all_visible]
    assert {h.item_id for h in lexical} == expected
    assert {h.item_id for h in vector} <= all_visible
    assert len(vector) == min(100, len(all_visible)), "every visible memory has a vector"
    assert expected <= {h.item_id for h in hybrid} <= all_visible
    ranks = sorted(h.lexical_rank for h in lexical if h.lexical_rank is not None)
    assert ranks == list(range(1, len(expected) + 1)), "hidden items never take a rank"
    for memory in mine:
        if memory.memory_id in expected:
            assert await store.get_memory(memory.memory_id, scope=scope) == memory
        else:
            with pytest.raises(NotFoundError):
                await store.get_memory(memory.memory_id, scope=scope)


# --- search and list respect every filter ------------------------------------------------------------

attributes = st.fixed_dictionaries(
    {
        "namespace": st.sampled_from(NAMESPACES),
        "session_id": st.sampled_from([None, "s1", "s2"]),
        "room_id": st.sampled_from([None, "room_1", "room_2"]),
        "kind": st.sampled_from(["note", "observation", "decision"]),
        "tags": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3, unique=True),
        "metadata": st.sampled_from([{}, {"tier": 1}, {"tier": 2}, {"tier": 1, "vip": True}]),
        "sensitivity": st.sampled_from(SENSITIVITIES),
        "vector_axis": st.one_of(st.none(), st.integers(0, 7)),
    }
)
filters = st.fixed_dictionaries(
    {},
    optional={
        "namespaces": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3, unique=True),
        "session_id": st.sampled_from(["s1", "s2"]),
        "room_id": st.sampled_from(["room_1", "room_2"]),
        "kinds": st.lists(
            st.sampled_from(["note", "observation", "decision"]), min_size=1, max_size=2, unique=True
        ),
        "tags": st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2, unique=True),
        "metadata": st.sampled_from([{"tier": 1}, {"tier": 2}, {"vip": True}, {"tier": 1, "vip": True}]),
        "max_sensitivity": st.sampled_from(SENSITIVITIES),
        "after": st.integers(0, 11),
        "before": st.integers(0, 12),
    },
)


def matches(memory: Memory, f: MemoryFilter) -> bool:
    """The oracle: ``MemoryFilter`` semantics from its docstring, in plain Python.

    ``namespaces`` entries are matched like scope patterns (``*`` wildcard), as both backends do.
    """
    return (
        (
            not f.namespaces
            or Scope(agent="oracle", read_namespaces=tuple(f.namespaces)).can_read(memory.namespace)
        )
        and (f.session_id is None or memory.session_id == f.session_id)
        and (f.room_id is None or memory.room_id == f.room_id)
        and (not f.kinds or memory.kind in f.kinds)
        and set(f.tags) <= set(memory.tags)
        and all(k in memory.metadata and memory.metadata[k] == v for k, v in f.metadata.items())
        and (f.created_after is None or memory.created_at >= f.created_after)
        and (f.created_before is None or memory.created_at < f.created_before)
        and (f.max_sensitivity is None or memory.sensitivity.level <= f.max_sensitivity.level)
    )


@PROPERTY
@given(specs=st.lists(attributes, min_size=1, max_size=12), chosen=filters, query_axis=st.integers(0, 7))
async def test_search_and_list_respect_every_filter(
    store: MemoryStore,
    word_source: Iterator[str],
    specs: list[dict[str, Any]],
    chosen: dict[str, Any],
    query_axis: int,
) -> None:
    everything = await _list_all(store, MemoryFilter())
    word = next(word_source)
    mine: list[Memory] = []
    with_vectors: set[str] = set()
    for i, spec in enumerate(specs):
        spec = dict(spec)
        vector_axis = spec.pop("vector_axis")
        memory = await store.add_memory(
            NewMemory(content=f"{word} number {i}", **spec),
            None if vector_axis is None else axis(vector_axis),
        )
        mine.append(memory)
        if vector_axis is not None:
            with_vectors.add(memory.memory_id)
    everything += mine
    times = sorted(m.created_at for m in mine)
    chosen = dict(chosen)
    if (after := chosen.pop("after", None)) is not None and after < len(times):
        chosen["created_after"] = times[after]
    if (before := chosen.pop("before", None)) is not None and before < len(times):
        chosen["created_before"] = times[before]
    memory_filter = MemoryFilter(**chosen)
    all_matching = [m for m in everything if matches(m, memory_filter)]
    expected = {m.memory_id for m in mine if matches(m, memory_filter)}
    request = SearchRequest(query=word, limit=100, **memory_filter.model_dump())

    listed = await _list_all(store, memory_filter)
    lexical = await store.search(request)
    hybrid = await store.search(request, query_embedding=axis(query_axis))
    vector = await store.search(
        request.model_copy(update={"query": "zebra"}), query_embedding=axis(query_axis)
    )

    assert [m.memory_id for m in listed] == _newest_first(all_matching)
    assert {h.item_id for h in lexical} == expected
    assert expected <= {h.item_id for h in hybrid} <= {m.memory_id for m in all_matching}
    assert {h.item_id for h in vector} <= {m.memory_id for m in all_matching}
    if len(vector) < request.limit:  # nothing was cut: every matching memory with a vector is there
        assert {h.item_id for h in vector} >= expected & with_vectors
