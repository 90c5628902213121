"""A customer's history across rooms and channels through real client sessions, on both backends."""

from __future__ import annotations

import pytest

from mcp_memory.config import Settings
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def test_customer_history_lists_rooms_across_channels_newest_first_with_open_work(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        sms_room = (await call(client, "create_room", name="sms case"))["room_id"]
        stored = await call(
            client,
            "store_event",
            room_id=sms_room,
            content="my bill is wrong",
            channel_type="sms",
            sender_address="+15550100",
        )
        ana = stored["event"]["source"]["sender_identity_id"]
        await call(client, "link_address", identity_id=ana, channel_type="email", address="ana@example.com")
        await call(client, "create_task", title="refund 20 EUR", room_id=sms_room)
        await call(client, "escalate", room_id=sms_room, reason="refund needs approval")
        email_room = (await call(client, "create_room", name="email case"))["room_id"]
        for n in range(3):
            await call(
                client,
                "store_event",
                room_id=email_room,
                content=f"email {n}",
                channel_type="email",
                sender_address="Ana@Example.com",
            )
        await call(client, "create_room", name="someone else")

        history = await call(
            client, "get_customer_history", channel_type="sms", address="+1 555-0100", events_per_room=2
        )
        assert history["identity"]["identity_id"] == ana
        assert [r["room"]["name"] for r in history["rooms"]] == ["email case", "sms case"]
        email, sms = history["rooms"]
        assert [e["content"] for e in email["recent_events"]] == ["email 1", "email 2"]
        assert [t["title"] for t in sms["open_tasks"]] == ["refund 20 EUR"]
        assert [e["reason"] for e in sms["open_escalations"]] == ["refund needs approval"]
        assert email["open_tasks"] == []

        first = await call(client, "get_customer_history", identity_id=ana, limit=1)
        rest = await call(
            client, "get_customer_history", identity_id=ana, limit=1, cursor=first["next_cursor"]
        )
        assert [r["room"]["name"] for r in first["rooms"] + rest["rooms"]] == ["email case", "sms case"]
        assert rest["next_cursor"] is None

        unknown = await call_error(client, "get_customer_history", channel_type="sms", address="+15559999")
        assert unknown.startswith("NotFound")
        neither = await call_error(client, "get_customer_history")
        assert "give identity_id" in neither


async def test_customer_history_shows_only_rooms_the_caller_may_read(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as triage, connect(backend_settings, "billing") as billing:
        private = (await call(triage, "create_room", name="private", namespace="agent-triage"))["room_id"]
        shared = (await call(triage, "create_room", name="shared"))["room_id"]
        for room in (private, shared):
            await call(
                triage,
                "store_event",
                room_id=room,
                content="hello",
                channel_type="sms",
                sender_address="+15550100",
            )
        seen = await call(billing, "get_customer_history", channel_type="sms", address="+15550100")
        assert [r["room"]["name"] for r in seen["rooms"]] == ["shared"]
