"""A room's timeline filtered by channel, sender identity, visibility and type, on every backend."""

from __future__ import annotations

import pytest

from storage import MemoryStore
from storage.models import EventSource, NewEvent, NewRoom, Visibility

pytestmark = pytest.mark.anyio


async def test_list_events_filters_by_channel_sender_visibility_and_type(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom(name="case"))
    ana, _ = await store.resolve_identity("sms", "+15550001")
    for content, channel, sender, visibility, type_ in [
        ("sms from ana", "sms", ana.identity_id, Visibility.ALL, "message"),
        ("email from ana", "email", ana.identity_id, Visibility.ALL, "message"),
        ("agent note", None, None, Visibility.AGENTS, "note"),
        ("sms from someone", "sms", "ident_other", Visibility.ALL, "message"),
    ]:
        await store.append_event(
            NewEvent(
                room_id=room.room_id,
                content=content,
                type=type_,
                visibility=visibility,
                source=EventSource(channel_type=channel, sender_identity_id=sender, agent="triage"),
            )
        )

    async def contents(**filters: object) -> list[str]:
        return [e.content for e in await store.list_events(room.room_id, **filters)]  # type: ignore[arg-type]

    assert await contents(channel_types=["sms"]) == ["sms from ana", "sms from someone"]
    assert await contents(sender_identity_id=ana.identity_id) == ["sms from ana", "email from ana"]
    assert await contents(channel_types=["sms", "email"], sender_identity_id=ana.identity_id) == [
        "sms from ana",
        "email from ana",
    ]
    assert await contents(visibility=[Visibility.AGENTS]) == ["agent note"]
    assert await contents(types=["message"], before_index=4, limit=2) == ["sms from ana", "email from ana"]
