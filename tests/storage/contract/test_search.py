"""Hybrid search: lexical and vector candidates, RRF fusion, every filter applied in the query."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import InvalidInputError, MemoryStore, Scope
from storage.models import (
    MemoryFilter,
    NewEvent,
    NewMemory,
    NewRoom,
    SearchHit,
    SearchRequest,
    Sensitivity,
)
from storage.ranking import VECTOR_WEIGHT
from tests.storage.contract.support import FILTER_CASES, at, axis, filter_fixture, rrf

pytestmark = pytest.mark.anyio


def assert_well_formed(hits: list[SearchHit], *, vector_weight: float = VECTOR_WEIGHT) -> None:
    """Scores are weighted RRF (no decay or importance asked), best first, ties by item id."""
    for hit in hits:
        expected = rrf(hit.lexical_rank, hit.vector_rank, vector_weight=vector_weight)
        assert hit.score == pytest.approx(expected, rel=1e-9)
        assert (hit.memory is not None) == (hit.item_type == "memory")
        assert (hit.event is not None) == (hit.item_type == "event")
        item = hit.memory.memory_id if hit.memory else hit.event.event_id  # type: ignore[union-attr]
        assert item == hit.item_id
    assert [(h.score, h.item_id) for h in hits] == sorted(
        ((h.score, h.item_id) for h in hits), key=lambda p: (-p[0], p[1])
    )
    assert len({h.item_id for h in hits}) == len(hits)


async def test_lexical_search_finds_a_memory_by_a_word_of_it(store: MemoryStore) -> None:
    match = await store.add_memory(
        NewMemory(namespace="agent-billing", content="Customer disputes two invoices from March")
    )
    await store.add_memory(NewMemory(namespace="agent-billing", content="Shipping delayed by the storm"))

    hits = await store.search(SearchRequest(query="invoice"))

    assert [h.item_id for h in hits] == [match.memory_id]
    assert hits[0].item_type == "memory"
    assert hits[0].memory == match
    assert hits[0].lexical_rank == 1
    assert hits[0].vector_rank is None
    assert hits[0].score == pytest.approx(1 / 61)


async def test_lexical_search_matches_singular_and_plural(store: MemoryStore) -> None:
    plural = await store.add_memory(NewMemory(namespace="agent-billing", content="two refunds pending"))
    singular = await store.add_memory(NewMemory(namespace="agent-billing", content="one refund pending"))

    by_singular = await store.search(SearchRequest(query="refund"))
    by_plural = await store.search(SearchRequest(query="refunds"))

    assert {h.item_id for h in by_singular} == {plural.memory_id, singular.memory_id}
    assert {h.item_id for h in by_plural} == {plural.memory_id, singular.memory_id}


async def test_lexical_search_ignores_case(store: MemoryStore) -> None:
    memory = await store.add_memory(NewMemory(namespace="agent-billing", content="Contact ACME Corporation"))

    hits = await store.search(SearchRequest(query="acme"))

    assert [h.item_id for h in hits] == [memory.memory_id]


async def test_search_with_no_matching_words_and_no_embedding_finds_nothing(store: MemoryStore) -> None:
    await store.add_memory(NewMemory(namespace="agent-billing", content="Shipping delayed"), axis(0))

    assert await store.search(SearchRequest(query="zebra")) == []


async def test_vector_search_finds_memories_by_meaning_when_words_differ(store: MemoryStore) -> None:
    a = await store.add_memory(NewMemory(namespace="agent-billing", content="alpha text"), axis(0))
    b = await store.add_memory(NewMemory(namespace="agent-billing", content="beta text"), axis(1))
    c = await store.add_memory(NewMemory(namespace="agent-billing", content="gamma text"), axis(2))
    query = axis(1, lean=2, amount=0.3)

    hits = await store.search(SearchRequest(query="zebra"), query_embedding=query)

    assert [h.item_id for h in hits] == [b.memory_id, c.memory_id, a.memory_id]
    assert [h.vector_rank for h in hits] == [1, 2, 3]
    assert all(h.lexical_rank is None for h in hits)
    assert_well_formed(hits)


async def test_memories_without_an_embedding_are_found_only_by_words(store: MemoryStore) -> None:
    with_vector = await store.add_memory(NewMemory(namespace="agent-billing", content="beta"), axis(1))
    await store.add_memory(NewMemory(namespace="agent-billing", content="no vector here"))

    hits = await store.search(SearchRequest(query="zebra"), query_embedding=axis(1))

    assert [h.item_id for h in hits] == [with_vector.memory_id]


async def test_fusion_with_equal_weights_puts_an_item_found_both_ways_first(store: MemoryStore) -> None:
    both = await store.add_memory(NewMemory(namespace="agent-billing", content="refund policy"), axis(0))
    words = await store.add_memory(
        NewMemory(namespace="agent-billing", content="refund refund refund window"), axis(5)
    )
    meaning = await store.add_memory(
        NewMemory(namespace="agent-billing", content="money back"), axis(0, lean=1, amount=0.2)
    )

    hits = await store.search(SearchRequest(query="refund", vector_weight=1.0), query_embedding=axis(0))

    assert hits[0].item_id == both.memory_id
    assert hits[0].vector_rank == 1
    assert hits[0].lexical_rank in (1, 2)
    by_id = {h.item_id: h for h in hits}
    assert by_id[words.memory_id].lexical_rank in (1, 2)
    assert by_id[meaning.memory_id].lexical_rank is None
    assert by_id[meaning.memory_id].vector_rank == 2
    assert_well_formed(hits, vector_weight=1.0)


async def test_vector_weight_scales_the_vector_lists_share_of_the_score(store: MemoryStore) -> None:
    """Lexical rank 1 scores 1/61; vector rank 1 scores w/61: the weight decides which comes first."""
    lexical = await store.add_memory(NewMemory(namespace="agent-billing", content="refund window"), None)
    semantic = await store.add_memory(NewMemory(namespace="agent-billing", content="money back"), axis(0))

    by_weight = {
        weight: await store.search(
            SearchRequest(query="refund", vector_weight=weight), query_embedding=axis(0)
        )
        for weight in (0.0, 0.5, 2.0)
    }

    assert [h.item_id for h in by_weight[0.0]] == [lexical.memory_id, semantic.memory_id]
    assert by_weight[0.0][1].score == 0.0
    assert [h.item_id for h in by_weight[0.5]] == [lexical.memory_id, semantic.memory_id]
    assert [h.item_id for h in by_weight[2.0]] == [semantic.memory_id, lexical.memory_id]
    for weight, hits in by_weight.items():
        assert_well_formed(hits, vector_weight=weight)


async def test_equal_items_rank_by_item_id(store: MemoryStore) -> None:
    twins = [
        await store.add_memory(NewMemory(namespace="agent-billing", content="duplicate refund note"), axis(3))
        for _ in range(4)
    ]

    hits = await store.search(SearchRequest(query="refund"), query_embedding=axis(3))
    again = await store.search(SearchRequest(query="refund"), query_embedding=axis(3))

    assert [h.item_id for h in hits] == sorted(m.memory_id for m in twins)
    assert hits == again
    assert_well_formed(hits)


async def test_search_returns_at_most_limit_hits(store: MemoryStore) -> None:
    for i in range(15):
        await store.add_memory(
            NewMemory(namespace="agent-billing", content=f"parcel number {i}"), axis(i % 8)
        )

    lexical = await store.search(SearchRequest(query="parcel", limit=5))
    hybrid = await store.search(SearchRequest(query="parcel", limit=5), query_embedding=axis(0))

    assert len(lexical) == 5
    assert len(hybrid) == 5
    assert_well_formed(lexical)
    assert_well_formed(hybrid)


async def test_search_with_a_wrong_embedding_size_is_invalid(store: MemoryStore) -> None:
    await store.add_memory(NewMemory(namespace="agent-billing", content="refund"), axis(0))

    with pytest.raises(InvalidInputError):
        await store.search(SearchRequest(query="refund"), query_embedding=[1.0, 0.0])


@pytest.mark.parametrize("with_vector", [False, True], ids=["lexical", "hybrid"])
@pytest.mark.parametrize("case", list(FILTER_CASES))
async def test_search_applies_each_filter(store: MemoryStore, case: str, with_vector: bool) -> None:
    memories = await filter_fixture(store)
    for i, memory in enumerate(memories.values()):
        # Give every memory a vector too: unrelated ones must still be filtered out of the vector list.
        await store.add_memory(
            NewMemory(namespace=memory.namespace, content=f"unrelated {i}", tags=["other"]), axis(i % 8)
        )
    filters, expected = FILTER_CASES[case]
    request = SearchRequest(query="widget", limit=100, **filters.model_dump())

    hits = await store.search(request, query_embedding=axis(0) if with_vector else None)

    found = {h.item_id for h in hits}
    expected_ids = {memories[name].memory_id for name in expected}
    assert expected_ids <= found
    allowed = await store.list_memories(filters, limit=500)
    assert found <= {m.memory_id for m in allowed.items}
    if not with_vector:
        assert found == expected_ids
    assert_well_formed(hits)


async def test_search_time_range_is_half_open(store: MemoryStore) -> None:
    added = [
        await store.add_memory(NewMemory(namespace="agent-billing", content=f"widget {i}")) for i in range(4)
    ]
    times = sorted(m.created_at for m in added)
    by_time = {m.created_at: m.memory_id for m in added}

    hits = await store.search(SearchRequest(query="widget", created_after=times[1], created_before=times[3]))

    assert {h.item_id for h in hits} == {by_time[times[1]], by_time[times[2]]}


async def test_search_filters_apply_before_the_top_k_cut(store: MemoryStore) -> None:
    for _ in range(30):
        await store.add_memory(NewMemory(namespace="agent-noise", content="widget widget widget"), axis(0))
    wanted = await store.add_memory(
        NewMemory(namespace="agent-billing", content="a widget among many words of text"), axis(7)
    )

    hits = await store.search(
        SearchRequest(query="widget", limit=1, namespaces=["agent-billing"]), query_embedding=axis(0)
    )

    assert [h.item_id for h in hits] == [wanted.memory_id]
    assert hits[0].lexical_rank == 1
    assert hits[0].vector_rank == 1


async def test_search_never_returns_items_outside_the_scope(store: MemoryStore) -> None:
    mine = await store.add_memory(NewMemory(namespace="agent-billing", content="widget mine"), axis(0))
    shared = await store.add_memory(NewMemory(namespace="shared-context", content="widget shared"), axis(0))
    await store.add_memory(NewMemory(namespace="agent-triage", content="widget theirs"), axis(0))
    await store.add_memory(
        NewMemory(namespace="agent-billing", content="widget secret", sensitivity=Sensitivity.CONFIDENTIAL),
        axis(0),
    )
    scope = Scope(
        agent="billing", read_namespaces=("agent-billing", "shared-*"), max_sensitivity=Sensitivity.INTERNAL
    )

    lexical = await store.search(SearchRequest(query="widget"), scope=scope)
    hybrid = await store.search(SearchRequest(query="widget"), query_embedding=axis(0), scope=scope)

    assert {h.item_id for h in lexical} == {mine.memory_id, shared.memory_id}
    assert {h.item_id for h in hybrid} == {mine.memory_id, shared.memory_id}
    assert sorted(h.lexical_rank for h in lexical) == [1, 2]
    assert sorted(h.vector_rank for h in hybrid) == [1, 2]


# --- events in search --------------------------------------------------------------------------------


async def test_include_events_finds_room_events(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    event = (
        await store.append_event(NewEvent(room_id=room.room_id, content="The parcel arrived damaged"))
    ).event
    memory = await store.add_memory(NewMemory(namespace="agent-support", content="parcel claims policy"))

    memories_only = await store.search(SearchRequest(query="parcel"))
    both = await store.search(SearchRequest(query="parcel", include_events=True))
    events_only = await store.search(
        SearchRequest(query="parcel", include_events=True, include_memories=False)
    )

    assert {h.item_id for h in memories_only} == {memory.memory_id}
    assert {h.item_id for h in both} == {memory.memory_id, event.event_id}
    assert [h.item_id for h in events_only] == [event.event_id]
    assert events_only[0].item_type == "event"
    assert events_only[0].event == event
    assert events_only[0].memory is None
    assert_well_formed(both)


async def test_events_are_found_by_embedding(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    near = (
        await store.append_event(NewEvent(room_id=room.room_id, content="box was crushed"), axis(4))
    ).event
    await store.append_event(NewEvent(room_id=room.room_id, content="thanks, bye"), axis(6))

    hits = await store.search(
        SearchRequest(query="zebra", include_events=True, include_memories=False), query_embedding=axis(4)
    )

    assert hits[0].item_id == near.event_id
    assert hits[0].vector_rank == 1


async def test_memory_only_filters_exclude_events(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.append_event(NewEvent(room_id=room.room_id, content="parcel lost"))
    memory = await store.add_memory(
        NewMemory(namespace="agent-support", content="parcel", session_id="s", kind="note", tags=["t"])
    )

    for filters in [
        {"namespaces": ["agent-support"]},
        {"session_id": "s"},
        {"kinds": ["note"]},
        {"tags": ["t"]},
    ]:
        hits = await store.search(SearchRequest(query="parcel", include_events=True, **filters))
        assert [h.item_id for h in hits] == [memory.memory_id], filters


async def test_room_and_time_filters_apply_to_events(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    other = await store.create_room(NewRoom())
    old = (
        await store.append_event(
            NewEvent(room_id=room.room_id, content="parcel old", occurred_at=at("2024-01-01T00:00"))
        )
    ).event
    new = (
        await store.append_event(
            NewEvent(room_id=room.room_id, content="parcel new", occurred_at=at("2024-02-01T00:00"))
        )
    ).event
    await store.append_event(NewEvent(room_id=other.room_id, content="parcel elsewhere"))
    request = {"query": "parcel", "include_events": True, "include_memories": False}

    in_room = await store.search(SearchRequest(**request, room_id=room.room_id))
    since = await store.search(
        SearchRequest(**request, room_id=room.room_id, created_after=at("2024-02-01T00:00"))
    )
    until = await store.search(SearchRequest(**request, created_before=at("2024-02-01T00:00")))

    assert {h.item_id for h in in_room} == {old.event_id, new.event_id}
    assert [h.item_id for h in since] == [new.event_id]
    assert [h.item_id for h in until] == [old.event_id]


async def test_events_above_the_clearance_are_not_searched(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    ok = (
        await store.append_event(NewEvent(room_id=room.room_id, content="parcel", sensitivity="public"))
    ).event
    await store.append_event(
        NewEvent(room_id=room.room_id, content="parcel card number", sensitivity="confidential"), axis(0)
    )
    scope = Scope(agent="a", max_sensitivity=Sensitivity.INTERNAL)
    request = SearchRequest(query="parcel", include_events=True)

    hits = await store.search(request, query_embedding=axis(0), scope=scope)
    filtered = await store.search(request.model_copy(update={"max_sensitivity": Sensitivity.PUBLIC}))

    assert [h.item_id for h in hits] == [ok.event_id]
    assert [h.item_id for h in filtered] == [ok.event_id]


# --- recency and importance --------------------------------------------------------------------------


async def test_recency_decay_uses_the_events_time_and_half_life(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    old = (
        await store.append_event(
            NewEvent(room_id=room.room_id, content="parcel parcel parcel", occurred_at=at("2024-01-01T00:00"))
        )
    ).event
    new = (
        await store.append_event(
            NewEvent(room_id=room.room_id, content="a parcel", occurred_at=at("2024-01-01T22:00"))
        )
    ).event
    now = at("2024-01-02T00:00")

    hits = await store.search(
        SearchRequest(query="parcel", include_events=True, half_life_hours=2.0, now=now)
    )

    assert [h.item_id for h in hits] == [new.event_id, old.event_id]
    ages = {new.event_id: 2.0, old.event_id: 24.0}
    for hit in hits:
        assert hit.score == pytest.approx(rrf(hit.lexical_rank) * 0.5 ** (ages[hit.item_id] / 2.0), rel=1e-6)


async def test_importance_weight_lifts_important_memories(store: MemoryStore) -> None:
    minor = await store.add_memory(
        NewMemory(namespace="agent-billing", content="refund refund refund", importance=0.0)
    )
    major = await store.add_memory(NewMemory(namespace="agent-billing", content="a refund", importance=1.0))

    hits = await store.search(SearchRequest(query="refund", importance_weight=2.0))

    assert [h.item_id for h in hits] == [major.memory_id, minor.memory_id]
    by_id = {h.item_id: h for h in hits}
    assert by_id[major.memory_id].score == pytest.approx(rrf(by_id[major.memory_id].lexical_rank) * 3.0)
    assert by_id[minor.memory_id].score == pytest.approx(rrf(by_id[minor.memory_id].lexical_rank) * 1.0)


async def test_recency_decay_is_off_without_a_half_life(store: MemoryStore) -> None:
    memory = await store.add_memory(NewMemory(namespace="agent-billing", content="refund"))

    hits = await store.search(SearchRequest(query="refund", now=memory.created_at + timedelta(days=3650)))

    assert hits[0].score == pytest.approx(1 / 61)


async def test_search_can_restrict_memories_by_filter_in_a_shared_scope(store: MemoryStore) -> None:
    shared_a = await store.add_memory(NewMemory(namespace="shared-a", content="widget"))
    await store.add_memory(NewMemory(namespace="shared-b", content="widget"))
    scope = Scope(agent="x", read_namespaces=("shared-*",))

    hits = await store.search(SearchRequest(query="widget", namespaces=["shared-a"]), scope=scope)
    listed = await store.list_memories(MemoryFilter(namespaces=["shared-a"]), scope=scope)

    assert [h.item_id for h in hits] == [shared_a.memory_id]
    assert [m.memory_id for m in listed.items] == [shared_a.memory_id]


async def test_namespace_filter_accepts_star_patterns(store: MemoryStore) -> None:
    a = await store.add_memory(NewMemory(namespace="shared-a", content="widget"))
    b = await store.add_memory(NewMemory(namespace="shared-b", content="widget"))
    await store.add_memory(NewMemory(namespace="agent-shared-c", content="widget"))

    hits = await store.search(SearchRequest(query="widget", namespaces=["shared-*"]))
    listed = await store.list_memories(MemoryFilter(namespaces=["shared-*"]))

    assert {h.item_id for h in hits} == {a.memory_id, b.memory_id}
    assert {m.memory_id for m in listed.items} == {a.memory_id, b.memory_id}


async def test_underscore_and_dot_in_a_namespace_are_literal(store: MemoryStore) -> None:
    underscore = await store.add_memory(NewMemory(namespace="team_ops", content="widget"))
    dot = await store.add_memory(NewMemory(namespace="team.ops", content="widget"))
    await store.add_memory(NewMemory(namespace="teamxops", content="widget"))

    exact = await store.search(SearchRequest(query="widget", namespaces=["team_ops", "team.ops"]))
    pattern = await store.list_memories(
        MemoryFilter(), scope=Scope(agent="a", read_namespaces=("team_*", "team.*"))
    )

    assert {h.item_id for h in exact} == {underscore.memory_id, dot.memory_id}
    assert {m.memory_id for m in pattern.items} == {underscore.memory_id, dot.memory_id}
