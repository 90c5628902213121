"""Rooms, conversation state, handoffs, participants and channel bindings."""

from __future__ import annotations

import pytest

from storage import ConflictError, InvalidInputError, MemoryStore, NotFoundError
from storage.models import NewEvent, NewRoom, RoomStatus, Visibility
from tests.storage.contract.support import collect_pages, is_utc

pytestmark = pytest.mark.anyio


# --- rooms -------------------------------------------------------------------------------------------


async def test_create_room_starts_open_with_empty_state(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom(name="case 42", metadata={"channel": "sms"}, created_by="triage"))

    assert room.room_id.startswith("room_")
    assert room.name == "case 42"
    assert room.status is RoomStatus.OPEN
    assert room.metadata == {"channel": "sms"}
    assert room.created_by == "triage"
    assert room.last_event_index == 0
    assert room.closed_at is None
    assert is_utc(room.created_at)
    assert room.state.active_agent is None
    assert room.state.phase is None
    assert room.state.handoff_count == 0
    assert room.state.version == 1


async def test_get_room_returns_what_create_room_returned(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom(room_id="case-42", metadata={"a": [1, {"b": None}], "ü": "✓"}))

    assert await store.get_room("case-42") == room


async def test_create_room_with_a_taken_id_is_a_conflict(store: MemoryStore) -> None:
    await store.create_room(NewRoom(room_id="case-1", name="first"))

    with pytest.raises(ConflictError):
        await store.create_room(NewRoom(room_id="case-1", name="second"))
    assert (await store.get_room("case-1")).name == "first"


async def test_get_room_of_an_unknown_id_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.get_room("room_missing")


async def test_list_rooms_pages_newest_first_without_gaps_or_duplicates(store: MemoryStore) -> None:
    rooms = [await store.create_room(NewRoom(name=f"r{i}")) for i in range(5)]
    expected = sorted(rooms, key=lambda r: (r.created_at, r.room_id), reverse=True)

    listed = await collect_pages(lambda c: store.list_rooms(limit=2, cursor=c), limit=2)

    assert [r.room_id for r in listed] == [r.room_id for r in expected]


async def test_list_rooms_filters_by_status(store: MemoryStore) -> None:
    open_room = await store.create_room(NewRoom())
    closed_room = await store.create_room(NewRoom())
    await store.close_room(closed_room.room_id)

    closed = await store.list_rooms(status=RoomStatus.CLOSED)
    opened = await store.list_rooms(status=RoomStatus.OPEN)

    assert [r.room_id for r in closed.items] == [closed_room.room_id]
    assert [r.room_id for r in opened.items] == [open_room.room_id]


async def test_list_rooms_refuses_a_cursor_it_did_not_make(store: MemoryStore) -> None:
    with pytest.raises(InvalidInputError):
        await store.list_rooms(cursor="not-a-cursor!!")


async def test_update_room_metadata_merges_and_removes_keys_set_to_none(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom(metadata={"keep": 1, "drop": "x", "change": "old"}))

    updated = await store.update_room_metadata(room.room_id, {"drop": None, "change": "new", "add": [1, 2]})

    assert updated.metadata == {"keep": 1, "change": "new", "add": [1, 2]}
    assert (await store.get_room(room.room_id)).metadata == updated.metadata


async def test_update_room_metadata_of_an_unknown_room_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.update_room_metadata("room_missing", {"a": 1})


async def test_close_room_is_idempotent_and_records_when(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    closed = await store.close_room(room.room_id)
    again = await store.close_room(room.room_id)

    assert closed.status is RoomStatus.CLOSED
    assert closed.closed_at is not None
    assert is_utc(closed.closed_at)
    assert again.status is RoomStatus.CLOSED
    assert (await store.get_room(room.room_id)).status is RoomStatus.CLOSED


async def test_close_room_of_an_unknown_room_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.close_room("room_missing")


async def test_closed_room_refuses_new_events(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.append_event(NewEvent(room_id=room.room_id, content="before"))
    await store.close_room(room.room_id)

    with pytest.raises(ConflictError):
        await store.append_event(NewEvent(room_id=room.room_id, content="after"))

    assert [e.content for e in await store.list_events(room.room_id)] == ["before"]
    assert (await store.get_room(room.room_id)).last_event_index == 1


# --- conversation state ------------------------------------------------------------------------------


async def test_update_conversation_state_sets_fields_and_bumps_the_version(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    state = await store.update_conversation_state(room.room_id, phase="triage")
    state = await store.update_conversation_state(room.room_id, active_agent="billing")

    assert state.phase == "triage"
    assert state.active_agent == "billing"
    assert state.version == 3
    assert state.handoff_count == 0
    assert (await store.get_room(room.room_id)).state == state


async def test_update_conversation_state_with_the_current_version_succeeds(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    state = await store.update_conversation_state(room.room_id, phase="triage", expected_version=1)

    assert state.version == 2


async def test_stale_conversation_state_write_changes_nothing_and_carries_the_current_version(
    store: MemoryStore,
) -> None:
    room = await store.create_room(NewRoom())
    current = await store.update_conversation_state(room.room_id, phase="triage")

    with pytest.raises(ConflictError) as caught:
        await store.update_conversation_state(room.room_id, phase="billing", expected_version=1)

    assert caught.value.current_version == 2
    assert (await store.get_room(room.room_id)).state == current


async def test_update_conversation_state_of_an_unknown_room_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.update_conversation_state("room_missing", phase="x")


async def test_record_handoff_moves_the_room_and_appends_a_handoff_event(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.update_conversation_state(room.room_id, active_agent="triage")
    await store.append_event(NewEvent(room_id=room.room_id, content="hello"))

    state, event = await store.record_handoff(
        room.room_id, to_agent="billing", by_agent="triage", reason="invoice question"
    )

    assert state.active_agent == "billing"
    assert state.handoff_count == 1
    assert state.version == 3
    assert event.type == "handoff"
    assert event.visibility is Visibility.AGENTS
    assert event.index == 2
    assert event.metadata == {"from_agent": "triage", "to_agent": "billing", "reason": "invoice question"}
    after = await store.get_room(room.room_id)
    assert after.state == state
    assert after.last_event_index == 2
    assert (await store.list_events(room.room_id))[-1] == event


async def test_record_handoff_counts_every_handoff(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    await store.record_handoff(room.room_id, to_agent="a", by_agent="triage")
    state, _ = await store.record_handoff(room.room_id, to_agent="b", by_agent="a")

    assert state.handoff_count == 2
    assert state.active_agent == "b"


async def test_record_handoff_in_a_closed_room_is_a_conflict(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.close_room(room.room_id)

    with pytest.raises(ConflictError):
        await store.record_handoff(room.room_id, to_agent="b", by_agent="a")
    assert (await store.get_room(room.room_id)).state.handoff_count == 0


async def test_record_handoff_of_a_room_nobody_held_records_no_previous_agent(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    state, event = await store.record_handoff(room.room_id, to_agent="billing", by_agent="triage")

    assert state.active_agent == "billing"
    assert event.metadata == {"from_agent": None, "to_agent": "billing", "reason": None}
    assert event.source.agent == "triage"


async def test_record_handoff_of_an_unknown_room_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.record_handoff("room_missing", to_agent="b", by_agent="a")


# --- participants ------------------------------------------------------------------------------------


async def test_add_participant_joins_the_room(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    joined = await store.add_participant(room.room_id, "billing", role="specialist")

    assert joined.room_id == room.room_id
    assert joined.participant_id == "billing"
    assert joined.kind == "agent"
    assert joined.role == "specialist"
    assert joined.left_at is None
    assert is_utc(joined.joined_at)
    assert await store.list_participants(room.room_id) == [joined]


async def test_add_participant_of_an_unknown_kind_is_invalid_and_adds_no_one(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    with pytest.raises(InvalidInputError):
        await store.add_participant(room.room_id, "bot", kind="robot")
    assert await store.list_participants(room.room_id, include_left=True) == []


async def test_add_participant_twice_keeps_one_participant(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    await store.add_participant(room.room_id, "billing")
    await store.add_participant(room.room_id, "billing")

    assert [p.participant_id for p in await store.list_participants(room.room_id)] == ["billing"]


async def test_list_participants_keeps_the_order_of_joining(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    for name in ["zeta", "alpha", "mid"]:
        await store.add_participant(room.room_id, name)

    listed = await store.list_participants(room.room_id)

    assert [p.participant_id for p in listed] == ["zeta", "alpha", "mid"]


async def test_remove_participant_sets_left_at_and_hides_them_by_default(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.add_participant(room.room_id, "billing")
    await store.add_participant(room.room_id, "idn_1", kind="identity", role="customer")

    left = await store.remove_participant(room.room_id, "billing")

    assert left.left_at is not None
    assert is_utc(left.left_at)
    assert [p.participant_id for p in await store.list_participants(room.room_id)] == ["idn_1"]
    everyone = await store.list_participants(room.room_id, include_left=True)
    assert {p.participant_id: p.left_at is not None for p in everyone} == {"billing": True, "idn_1": False}


async def test_re_adding_a_participant_who_left_rejoins_with_the_new_role(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.add_participant(room.room_id, "billing", role="observer")
    await store.remove_participant(room.room_id, "billing")

    rejoined = await store.add_participant(room.room_id, "billing", role="owner")

    assert rejoined.left_at is None
    assert rejoined.role == "owner"
    listed = await store.list_participants(room.room_id, include_left=True)
    assert [(p.participant_id, p.role, p.left_at) for p in listed] == [("billing", "owner", None)]


async def test_participant_calls_on_unknown_rooms_or_people_are_not_found(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    with pytest.raises(NotFoundError):
        await store.add_participant("room_missing", "billing")
    with pytest.raises(NotFoundError):
        await store.list_participants("room_missing")
    with pytest.raises(NotFoundError):
        await store.remove_participant(room.room_id, "nobody")


# --- channel bindings --------------------------------------------------------------------------------


async def test_channel_binding_round_trips(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    binding = await store.add_channel_binding(room.room_id, "sms-1", "sms", {"number": "+15551234"})

    assert binding.room_id == room.room_id
    assert binding.channel_id == "sms-1"
    assert binding.channel_type == "sms"
    assert binding.config == {"number": "+15551234"}
    assert is_utc(binding.created_at)
    assert await store.get_channel_binding(room.room_id, "sms-1") == binding


async def test_add_channel_binding_without_config_stores_an_empty_config(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    binding = await store.add_channel_binding(room.room_id, "web-1", "webchat")

    assert binding.config == {}


async def test_binding_a_channel_twice_to_one_room_is_a_conflict(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.add_channel_binding(room.room_id, "sms-1", "sms", {"v": 1})

    with pytest.raises(ConflictError):
        await store.add_channel_binding(room.room_id, "sms-1", "sms", {"v": 2})
    assert (await store.get_channel_binding(room.room_id, "sms-1")).config == {"v": 1}


async def test_update_channel_binding_replaces_the_config(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    added = await store.add_channel_binding(room.room_id, "sms-1", "sms", {"old": 1, "kept": 2})

    updated = await store.update_channel_binding(room.room_id, "sms-1", {"new": 3})

    assert updated.config == {"new": 3}
    assert updated.created_at == added.created_at
    assert updated.updated_at >= added.updated_at
    assert await store.get_channel_binding(room.room_id, "sms-1") == updated


async def test_list_channel_bindings_lists_oldest_first(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    other = await store.create_room(NewRoom())
    for channel in ["sms-9", "email-1", "web-5"]:
        await store.add_channel_binding(room.room_id, channel, channel.split("-")[0])
    await store.add_channel_binding(other.room_id, "sms-7", "sms")

    listed = await store.list_channel_bindings(room.room_id)

    assert [b.channel_id for b in listed] == ["sms-9", "email-1", "web-5"]


async def test_remove_channel_binding_detaches_the_channel(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    await store.add_channel_binding(room.room_id, "sms-1", "sms")
    await store.add_channel_binding(room.room_id, "web-1", "webchat")

    await store.remove_channel_binding(room.room_id, "sms-1")

    assert [b.channel_id for b in await store.list_channel_bindings(room.room_id)] == ["web-1"]
    with pytest.raises(NotFoundError):
        await store.get_channel_binding(room.room_id, "sms-1")
    with pytest.raises(NotFoundError):
        await store.remove_channel_binding(room.room_id, "sms-1")


async def test_channel_binding_calls_on_unknown_items_are_not_found(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    with pytest.raises(NotFoundError):
        await store.add_channel_binding("room_missing", "sms-1", "sms")
    with pytest.raises(NotFoundError):
        await store.list_channel_bindings("room_missing")
    with pytest.raises(NotFoundError):
        await store.get_channel_binding(room.room_id, "sms-1")
    with pytest.raises(NotFoundError):
        await store.update_channel_binding(room.room_id, "sms-1", {})


# --- store metadata ----------------------------------------------------------------------------------


async def test_store_meta_is_none_until_set_and_upserts(store: MemoryStore) -> None:
    assert await store.get_meta("test_key") is None

    await store.set_meta("test_key", "one")
    await store.set_meta("test_key", "two")

    assert await store.get_meta("test_key") == "two"


async def test_describe_names_the_backend_and_schema_version(store: MemoryStore, backend: str) -> None:
    facts = await store.describe()

    assert store.backend == backend
    assert facts["backend"] == backend
    assert facts["schema_version"] == await store.schema_version()
    assert await store.schema_version() >= 1
