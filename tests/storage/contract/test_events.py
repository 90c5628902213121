"""Room timelines: gapless indexes, idempotent appends, filters and windows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import InvalidInputError, MemoryStore, NotFoundError, Scope
from storage.models import EventSource, NewEvent, NewRoom, Sensitivity, Visibility, utc_now
from tests.storage.contract.support import at, axis, is_utc

pytestmark = pytest.mark.anyio


async def _room_with_events(store: MemoryStore, count: int) -> str:
    room = await store.create_room(NewRoom())
    for i in range(1, count + 1):
        await store.append_event(NewEvent(room_id=room.room_id, content=f"message {i}"))
    return room.room_id


async def test_first_event_of_a_room_has_index_one(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    result = await store.append_event(NewEvent(room_id=room.room_id, content="hello"))

    assert result.created is True
    assert result.event.index == 1
    assert (await store.get_room(room.room_id)).last_event_index == 1


async def test_event_indexes_are_gapless_and_per_room(store: MemoryStore) -> None:
    first = await store.create_room(NewRoom())
    second = await store.create_room(NewRoom())

    indexes: dict[str, list[int]] = {first.room_id: [], second.room_id: []}
    for i in range(6):
        room_id = first.room_id if i % 3 else second.room_id
        result = await store.append_event(NewEvent(room_id=room_id, content=f"m{i}"))
        indexes[room_id].append(result.event.index)

    assert indexes == {first.room_id: [1, 2, 3, 4], second.room_id: [1, 2]}
    assert (await store.get_room(first.room_id)).last_event_index == 4


async def test_appended_event_keeps_every_field(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    occurred = at("2024-03-01T09:30:15")
    source = EventSource(channel_type="sms", channel_id="sms-1", sender_identity_id="idn_1", agent="triage")
    metadata = {"nested": {"list": [1, 2.5, "three", None, True]}, "unicode": "żółć ✓", "n": -7}

    result = await store.append_event(
        NewEvent(
            room_id=room.room_id,
            type="note",
            content="customer called",
            visibility=Visibility.AGENTS,
            sensitivity=Sensitivity.CONFIDENTIAL,
            source=source,
            metadata=metadata,
            idempotency_key="call-1",
            occurred_at=occurred,
        )
    )
    event = result.event

    assert event.room_id == room.room_id
    assert event.type == "note"
    assert event.content == "customer called"
    assert event.visibility is Visibility.AGENTS
    assert event.sensitivity is Sensitivity.CONFIDENTIAL
    assert event.source == source
    assert event.metadata == metadata
    assert event.idempotency_key == "call-1"
    assert event.occurred_at == occurred
    assert is_utc(event.occurred_at)
    assert is_utc(event.created_at)
    assert await store.get_event(event.event_id) == event
    assert await store.list_events(room.room_id) == [event]


async def test_event_defaults_are_message_all_internal_and_now(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    before = utc_now() - timedelta(seconds=5)

    event = (await store.append_event(NewEvent(room_id=room.room_id, content="hi"))).event

    assert event.type == "message"
    assert event.visibility is Visibility.ALL
    assert event.sensitivity is Sensitivity.INTERNAL
    assert event.metadata == {}
    assert event.idempotency_key is None
    assert before <= event.occurred_at <= utc_now() + timedelta(seconds=5)


async def test_retry_with_an_idempotency_key_returns_the_first_event_and_writes_nothing(
    store: MemoryStore,
) -> None:
    room = await store.create_room(NewRoom())
    first = await store.append_event(NewEvent(room_id=room.room_id, content="pay", idempotency_key="k1"))
    await store.append_event(NewEvent(room_id=room.room_id, content="other"))

    retry = await store.append_event(
        NewEvent(room_id=room.room_id, content="pay (retried, different text)", idempotency_key="k1")
    )

    assert retry.created is False
    assert retry.event == first.event
    assert [e.content for e in await store.list_events(room.room_id)] == ["pay", "other"]
    assert (await store.get_room(room.room_id)).last_event_index == 2


async def test_an_idempotency_key_is_scoped_to_its_room(store: MemoryStore) -> None:
    first = await store.create_room(NewRoom())
    second = await store.create_room(NewRoom())

    a = await store.append_event(NewEvent(room_id=first.room_id, content="x", idempotency_key="k1"))
    b = await store.append_event(NewEvent(room_id=second.room_id, content="x", idempotency_key="k1"))

    assert a.created is True
    assert b.created is True
    assert a.event.event_id != b.event.event_id


async def test_append_event_to_an_unknown_room_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.append_event(NewEvent(room_id="room_missing", content="x"))


async def test_get_event_of_an_unknown_id_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.get_event("evt_missing")


async def test_list_events_of_an_unknown_room_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.list_events("room_missing")


async def test_append_event_with_a_wrong_embedding_size_writes_nothing(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    with pytest.raises(InvalidInputError):
        await store.append_event(NewEvent(room_id=room.room_id, content="x"), embedding=[1.0, 0.0, 0.0])

    assert await store.list_events(room.room_id) == []
    assert (await store.get_room(room.room_id)).last_event_index == 0


async def test_append_event_accepts_an_embedding_of_the_store_size(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    result = await store.append_event(NewEvent(room_id=room.room_id, content="x"), embedding=axis(0))

    assert result.event.index == 1


async def test_list_events_without_bounds_returns_the_first_limit_events(store: MemoryStore) -> None:
    room_id = await _room_with_events(store, 10)

    events = await store.list_events(room_id, limit=4)

    assert [e.index for e in events] == [1, 2, 3, 4]


async def test_list_events_after_index_returns_the_next_events(store: MemoryStore) -> None:
    room_id = await _room_with_events(store, 10)

    assert [e.index for e in await store.list_events(room_id, after_index=3, limit=4)] == [4, 5, 6, 7]
    assert [e.index for e in await store.list_events(room_id, after_index=8, limit=4)] == [9, 10]
    assert await store.list_events(room_id, after_index=10) == []


async def test_list_events_before_index_returns_the_events_just_before_ascending(store: MemoryStore) -> None:
    room_id = await _room_with_events(store, 10)

    assert [e.index for e in await store.list_events(room_id, before_index=8, limit=3)] == [5, 6, 7]
    assert [e.index for e in await store.list_events(room_id, before_index=3, limit=5)] == [1, 2]
    assert await store.list_events(room_id, before_index=1) == []


async def test_list_events_between_after_and_before_index(store: MemoryStore) -> None:
    room_id = await _room_with_events(store, 10)

    events = await store.list_events(room_id, after_index=2, before_index=8, limit=100)

    assert [e.index for e in events] == [3, 4, 5, 6, 7]


async def test_list_events_filters_by_visibility_and_type(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    specs = [
        ("message", Visibility.ALL),
        ("note", Visibility.AGENTS),
        ("message", Visibility.AGENTS),
        ("tool_call", Visibility.AGENTS),
        ("message", Visibility.ALL),
    ]
    for type_, visibility in specs:
        await store.append_event(
            NewEvent(room_id=room.room_id, type=type_, content="x", visibility=visibility)
        )

    public = await store.list_events(room.room_id, visibility=[Visibility.ALL])
    messages = await store.list_events(room.room_id, types=["message"])
    agent_messages = await store.list_events(room.room_id, types=["message"], visibility=[Visibility.AGENTS])
    several = await store.list_events(room.room_id, types=["note", "tool_call"])

    assert [e.index for e in public] == [1, 5]
    assert [e.index for e in messages] == [1, 3, 5]
    assert [e.index for e in agent_messages] == [3]
    assert [e.index for e in several] == [2, 4]


async def test_events_above_the_scope_clearance_are_invisible(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    levels = [Sensitivity.PUBLIC, Sensitivity.CONFIDENTIAL, Sensitivity.INTERNAL, Sensitivity.PUBLIC]
    events = [
        (await store.append_event(NewEvent(room_id=room.room_id, content="x", sensitivity=s))).event
        for s in levels
    ]
    public_only = Scope(agent="intern", max_sensitivity=Sensitivity.PUBLIC)
    internal = Scope(agent="agent", max_sensitivity=Sensitivity.INTERNAL)

    assert [e.index for e in await store.list_events(room.room_id, scope=public_only)] == [1, 4]
    assert [e.index for e in await store.list_events(room.room_id, scope=internal)] == [1, 3, 4]
    assert len(await store.list_events(room.room_id, scope=Scope.unrestricted())) == 4
    with pytest.raises(NotFoundError):
        await store.get_event(events[1].event_id, scope=internal)
    with pytest.raises(NotFoundError):
        await store.get_event(events[2].event_id, scope=public_only)
    assert await store.get_event(events[2].event_id, scope=internal) == events[2]
