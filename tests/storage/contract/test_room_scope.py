"""Room visibility: a room's namespace decides who sees it, its events and escalations, and who writes.

The scope is applied in SQL, so hidden rooms and events are never returned, counted or ranked; denied
writes change nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import MemoryStore, NotFoundError, PermissionDeniedError, Scope
from storage.models import (
    Event,
    NewEscalation,
    NewEvent,
    NewRoom,
    Room,
    SearchRequest,
    Sensitivity,
)
from tests.storage.contract.support import axis, collect_pages
from tests.storage.contract.test_properties import NAMESPACES, PATTERNS, PROPERTY, SENSITIVITIES

pytestmark = pytest.mark.anyio

READER = Scope(
    agent="billing", read_namespaces=("rooms-billing", "shared-*"), write_namespaces=("rooms-billing",)
)
OUTSIDER = Scope(agent="tech", read_namespaces=("rooms-tech",), write_namespaces=("rooms-tech",))


async def _room(store: MemoryStore, namespace: str, content: str = "refund") -> tuple[Room, Event]:
    room = await store.create_room(NewRoom(namespace=namespace))
    appended = await store.append_event(NewEvent(room_id=room.room_id, content=content), axis(0))
    return room, appended.event


async def test_rooms_default_to_the_shared_namespace(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    assert room.namespace == "shared-rooms"
    assert (await store.get_room(room.room_id, scope=READER)).namespace == "shared-rooms"


async def test_a_room_outside_the_scope_is_not_found_listed_or_searched(store: MemoryStore) -> None:
    billing, billing_event = await _room(store, "rooms-billing", "zqbillx refund")
    tech, tech_event = await _room(store, "rooms-tech", "zqbillx router")

    assert (await store.get_room(billing.room_id, scope=READER)).room_id == billing.room_id
    with pytest.raises(NotFoundError):
        await store.get_room(tech.room_id, scope=READER)
    listed = await collect_pages(lambda c: store.list_rooms(cursor=c, limit=10, scope=READER), limit=10)
    assert [r.room_id for r in listed] == [billing.room_id]
    with pytest.raises(NotFoundError):
        await store.list_events(tech.room_id, scope=READER)
    with pytest.raises(NotFoundError):
        await store.get_event(tech_event.event_id, scope=READER)
    assert (await store.get_event(billing_event.event_id, scope=READER)) == billing_event

    request = SearchRequest(query="zqbillx", include_events=True, include_memories=False, limit=50)
    for vector in (None, axis(0)):
        hits = await store.search(request, vector, scope=READER)
        assert [h.item_id for h in hits] == [billing_event.event_id]
        assert hits[0].lexical_rank == 1
    unrestricted = await store.search(request, axis(0))
    assert {h.item_id for h in unrestricted} == {billing_event.event_id, tech_event.event_id}


async def test_a_denied_write_to_a_room_changes_nothing(store: MemoryStore) -> None:
    shared, _ = await _room(store, "shared-rooms")  # READER may read shared-* but write only rooms-billing
    tech, _ = await _room(store, "rooms-tech")

    with pytest.raises(PermissionDeniedError):
        await store.append_event(
            NewEvent(room_id=shared.room_id, content="x", idempotency_key="k"), scope=READER
        )
    with pytest.raises(NotFoundError):
        await store.append_event(NewEvent(room_id=tech.room_id, content="x"), scope=READER)
    with pytest.raises(PermissionDeniedError):
        await store.record_handoff(shared.room_id, to_agent="billing", by_agent="billing", scope=READER)
    with pytest.raises(PermissionDeniedError):
        await store.update_conversation_state(shared.room_id, phase="hijacked", scope=READER)
    with pytest.raises(PermissionDeniedError):
        await store.close_room(shared.room_id, scope=READER)
    with pytest.raises(PermissionDeniedError):
        await store.create_room(NewRoom(room_id="room-new", namespace="shared-rooms"), scope=READER)

    after = await store.get_room(shared.room_id)
    assert after == shared.model_copy(update={"last_event_index": 1})
    assert [e.index for e in await store.list_events(shared.room_id)] == [1]
    assert (await store.get_room(tech.room_id)).last_event_index == 1
    with pytest.raises(NotFoundError):
        await store.get_room("room-new")


async def test_an_event_above_the_writers_clearance_is_refused(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom(namespace="rooms-billing"))
    internal = Scope(
        agent="billing", write_namespaces=("rooms-billing",), max_sensitivity=Sensitivity.INTERNAL
    )
    with pytest.raises(PermissionDeniedError):
        await store.append_event(
            NewEvent(room_id=room.room_id, content="card 4111", sensitivity=Sensitivity.CONFIDENTIAL),
            scope=internal,
        )
    assert (await store.get_room(room.room_id)).last_event_index == 0


async def test_escalations_of_hidden_rooms_are_hidden(store: MemoryStore) -> None:
    billing, _ = await _room(store, "rooms-billing")
    tech, _ = await _room(store, "rooms-tech")
    mine = await store.create_escalation(NewEscalation(room_id=billing.room_id, reason="angry"))
    theirs = await store.create_escalation(NewEscalation(room_id=tech.room_id, reason="outage"))

    page = await store.list_escalations(scope=READER)
    assert [e.escalation_id for e in page.items] == [mine.escalation_id]
    assert (await store.get_escalation(mine.escalation_id, scope=READER)).escalation_id == mine.escalation_id
    with pytest.raises(NotFoundError):
        await store.get_escalation(theirs.escalation_id, scope=READER)
    assert (await store.list_escalations(scope=OUTSIDER)).items[0].escalation_id == theirs.escalation_id


# --- property: no search, list, read or count reveals a room or event outside the scope ---------------

event_specs = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(SENSITIVITIES), st.integers(0, 7)), min_size=1, max_size=10
)
room_scopes = st.builds(
    lambda reads, clearance: Scope(agent="prop", read_namespaces=tuple(reads), max_sensitivity=clearance),
    st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3, unique=True),
    st.sampled_from(SENSITIVITIES),
)


def _words() -> Iterator[str]:
    for letters in itertools.product("bcdfghjklmnpqrtvwz", repeat=3):
        yield "zr" + "".join(letters) + "x"


@pytest.fixture
def room_words() -> Iterator[str]:
    return _words()


@PROPERTY
@given(
    room_namespaces=st.lists(st.sampled_from(NAMESPACES), min_size=4, max_size=4),
    specs=event_specs,
    scope=room_scopes,
    query_axis=st.integers(0, 7),
)
async def test_room_scope_never_leaks_through_search_list_read_or_count(
    store: MemoryStore,
    room_words: Iterator[str],
    room_namespaces: list[str],
    specs: list[tuple[int, Sensitivity, int]],
    scope: Scope,
    query_axis: int,
) -> None:
    word = next(room_words)
    rooms = [await store.create_room(NewRoom(namespace=ns)) for ns in room_namespaces]
    events = [
        (
            await store.append_event(
                NewEvent(room_id=rooms[r].room_id, content=f"{word} {i}", sensitivity=s), axis(a)
            )
        ).event
        for i, (r, s, a) in enumerate(specs)
    ]
    for room in rooms:
        await store.create_escalation(NewEscalation(room_id=room.room_id, reason=word))
    readable_rooms = {r.room_id for r in rooms if scope.can_read(r.namespace)}

    def visible(event: Event) -> bool:
        return event.room_id in readable_rooms and event.sensitivity.level <= scope.max_sensitivity.level

    expected = {e.event_id for e in events if visible(e)}
    every_room = await collect_pages(lambda c: store.list_rooms(cursor=c, limit=50), limit=50)
    all_readable_rooms = {r.room_id for r in every_room if scope.can_read(r.namespace)}

    # list / count of rooms
    listed = await collect_pages(lambda c: store.list_rooms(cursor=c, limit=50, scope=scope), limit=50)
    assert {r.room_id for r in listed} == all_readable_rooms
    # reads of rooms, timelines and events
    for room in rooms:
        if room.room_id in readable_rooms:
            assert (await store.get_room(room.room_id, scope=scope)).room_id == room.room_id
            timeline = await store.list_events(room.room_id, limit=100, scope=scope)
            assert {e.event_id for e in timeline} == {
                e.event_id for e in events if e.room_id == room.room_id and visible(e)
            }
        else:
            with pytest.raises(NotFoundError):
                await store.get_room(room.room_id, scope=scope)
            with pytest.raises(NotFoundError):
                await store.list_events(room.room_id, scope=scope)
    for event in events:
        if visible(event):
            assert await store.get_event(event.event_id, scope=scope) == event
        else:
            with pytest.raises(NotFoundError):
                await store.get_event(event.event_id, scope=scope)
    # search: lexical, vector, hybrid; hidden events never returned or ranked
    request = SearchRequest(query=word, include_events=True, include_memories=False, limit=100)
    lexical = await store.search(request, scope=scope)
    hybrid = await store.search(request, axis(query_axis), scope=scope)
    vector = await store.search(request.model_copy(update={"query": "zebra"}), axis(query_axis), scope=scope)
    assert {h.item_id for h in lexical} == expected
    assert sorted(h.lexical_rank or 0 for h in lexical) == list(range(1, len(expected) + 1))
    assert expected <= {h.item_id for h in hybrid}
    for hit in [*hybrid, *vector]:
        assert hit.event is not None
        assert hit.event.room_id in all_readable_rooms
        assert hit.event.sensitivity.level <= scope.max_sensitivity.level
    # escalations: listed and read only for readable rooms
    escalations = await collect_pages(
        lambda c: store.list_escalations(cursor=c, limit=50, scope=scope), limit=50
    )
    assert {e.room_id for e in escalations} == all_readable_rooms
