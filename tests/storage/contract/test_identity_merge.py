"""Merging two identities of one person, on every backend: everything follows the survivor, in one
transaction, and a caller who cannot see everything the merge changes is refused."""

from __future__ import annotations

import pytest

from storage import InvalidInputError, MemoryStore, NotFoundError, PermissionDeniedError, Scope
from storage.models import EventSource, NewEvent, NewRoom, Sensitivity

pytestmark = pytest.mark.anyio


async def _person_found_twice(store: MemoryStore) -> tuple[str, str, str, str]:
    sms, _ = await store.resolve_identity("sms", "+15550001", display_name=None)
    email, _ = await store.resolve_identity("email", "ana@example.com", display_name="Ana")
    room = await store.create_room(NewRoom(name="both", namespace="shared-support"))
    other = await store.create_room(NewRoom(name="sms only", namespace="shared-support"))
    for identity in (sms, email):
        await store.add_participant(room.room_id, identity.identity_id, kind="identity", role="customer")
        await store.append_event(
            NewEvent(
                room_id=room.room_id,
                content="hi",
                source=EventSource(sender_identity_id=identity.identity_id),
            )
        )
    await store.add_participant(other.room_id, sms.identity_id, kind="identity", role="customer")
    return sms.identity_id, email.identity_id, room.room_id, other.room_id


async def test_merge_moves_addresses_participation_and_senders_to_the_survivor(store: MemoryStore) -> None:
    sms, email, room, other = await _person_found_twice(store)
    merged = await store.merge_identities(sms, email)
    assert merged.identity_id == email
    assert merged.display_name == "Ana"
    assert {(a.channel_type, a.address) for a in merged.addresses} == {
        ("sms", "+15550001"),
        ("email", "ana@example.com"),
    }
    assert (await store.find_identity("sms", "+15550001")).identity_id == email
    with pytest.raises(NotFoundError):
        await store.get_identity(sms)
    assert [p.participant_id for p in await store.list_participants(room) if p.kind == "identity"] == [email]
    assert [p.participant_id for p in await store.list_participants(other)] == [email]
    assert {e.source.sender_identity_id for e in await store.list_events(room)} == {email}
    assert [r.name for r in (await store.list_rooms(identity_id=email)).items] == ["sms only", "both"]


async def test_a_merge_the_caller_cannot_see_in_full_is_refused_and_changes_nothing(
    store: MemoryStore,
) -> None:
    sms, email, _, _ = await _person_found_twice(store)
    hidden = await store.create_room(NewRoom(name="hidden", namespace="agent-billing"))
    await store.append_event(
        NewEvent(room_id=hidden.room_id, content="secret", source=EventSource(sender_identity_id=sms))
    )
    support = Scope(agent="triage", read_namespaces=("shared-*",))
    with pytest.raises(PermissionDeniedError, match="1 room"):
        await store.merge_identities(sms, email, scope=support)
    assert (await store.find_identity("sms", "+15550001")).identity_id == sms
    low = Scope(agent="triage", read_namespaces=("*",), max_sensitivity=Sensitivity.PUBLIC)
    with pytest.raises(PermissionDeniedError):
        await store.merge_identities(sms, email, scope=low)  # her events are internal
    assert (await store.merge_identities(sms, email, scope=Scope(agent="ops"))).identity_id == email


async def test_merge_needs_two_existing_identities(store: MemoryStore) -> None:
    sms, email, _, _ = await _person_found_twice(store)
    with pytest.raises(InvalidInputError):
        await store.merge_identities(sms, sms)
    with pytest.raises(NotFoundError):
        await store.merge_identities("idn_missing", email)
