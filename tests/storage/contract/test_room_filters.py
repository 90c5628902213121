"""Rooms listed by namespace, status, participant and identity, on every backend."""

from __future__ import annotations

import pytest

from storage import MemoryStore, Scope
from storage.models import EventSource, NewEvent, NewRoom, RoomStatus
from tests.storage.contract.support import collect_pages

pytestmark = pytest.mark.anyio


async def test_list_rooms_filters_by_namespace_status_participant_and_identity(store: MemoryStore) -> None:
    ana, _ = await store.resolve_identity("sms", "+15550001")
    sms = await store.create_room(NewRoom(name="sms", namespace="shared-support"))
    email = await store.create_room(NewRoom(name="email", namespace="shared-billing"))
    other = await store.create_room(NewRoom(name="other", namespace="shared-support"))
    await store.add_participant(sms.room_id, ana.identity_id, kind="identity", role="customer")
    await store.remove_participant(sms.room_id, ana.identity_id)
    await store.append_event(
        NewEvent(room_id=email.room_id, content="hi", source=EventSource(sender_identity_id=ana.identity_id))
    )
    await store.add_participant(other.room_id, "bob", kind="human")
    await store.close_room(email.room_id)

    async def names(**filters: object) -> list[str | None]:
        page = await collect_pages(lambda c: store.list_rooms(cursor=c, limit=1, **filters), limit=1)  # type: ignore[arg-type]
        return [r.name for r in page]

    assert await names(identity_id=ana.identity_id) == ["email", "sms"]
    assert await names(identity_id=ana.identity_id, status=RoomStatus.OPEN) == ["sms"]
    assert await names(namespaces=["shared-sup*"]) == ["other", "sms"]
    assert await names(participant="bob") == ["other"]
    assert await names(participant=ana.identity_id) == []  # she left
    only_billing = Scope(agent="b", read_namespaces=("shared-billing",))
    page = await store.list_rooms(identity_id=ana.identity_id, scope=only_billing)
    assert [r.name for r in page.items] == ["email"]
