"""Unlinking an address and merging identities through real client sessions, on both backends."""

from __future__ import annotations

import pytest

from mcp_memory.config import Settings
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def test_a_wrong_link_is_undone_and_a_person_found_twice_is_merged(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room_id = (await call(client, "create_room"))["room_id"]
        sms = await call(
            client,
            "store_event",
            room_id=room_id,
            content="hi",
            channel_type="sms",
            sender_address="+15550100",
        )
        email = await call(
            client,
            "store_event",
            room_id=room_id,
            content="hello",
            channel_type="email",
            sender_address="ana@example.com",
        )
        by_sms = sms["event"]["source"]["sender_identity_id"]
        by_email = email["event"]["source"]["sender_identity_id"]
        conflict = await call_error(
            client, "link_address", identity_id=by_sms, channel_type="email", address="ana@example.com"
        )
        assert "unlink it there first" in conflict
        assert "merge the identities" in conflict

        merged = await call(client, "merge_identities", source_id=by_email, into_id=by_sms)
        assert {a["address"] for a in merged["addresses"]} == {"+15550100", "ana@example.com"}
        page = await call(client, "list_events", room_id=room_id, sender_identity_id=by_sms)
        assert [e["content"] for e in page["events"]] == ["hi", "hello"]
        history = await call(client, "get_customer_history", channel_type="email", address="ana@example.com")
        assert history["identity"]["identity_id"] == by_sms
        gone = await call_error(client, "merge_identities", source_id=by_email, into_id=by_sms)
        assert gone.startswith("NotFound")

        former = await call(client, "unlink_address", channel_type="email", address="Ana@Example.com")
        assert [a["address"] for a in former["addresses"]] == ["+15550100"]
        fresh = await call(client, "resolve_identity", channel_type="email", address="ana@example.com")
        assert fresh["created"] is True


async def test_a_merge_touching_a_room_the_caller_cannot_read_is_refused(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as triage, connect(backend_settings, "billing") as billing:
        private = (await call(triage, "create_room", namespace="agent-triage"))["room_id"]
        first = await call(
            triage,
            "store_event",
            room_id=private,
            content="secret",
            channel_type="sms",
            sender_address="+15550100",
        )
        second = await call(billing, "resolve_identity", channel_type="email", address="ana@example.com")
        source = first["event"]["source"]["sender_identity_id"]
        refused = await call_error(
            billing, "merge_identities", source_id=source, into_id=second["identity"]["identity_id"]
        )
        assert refused.startswith("PermissionDenied")
        assert "may not see in full" in refused
        still = await call(billing, "resolve_identity", channel_type="sms", address="+15550100")
        assert still["identity"]["identity_id"] == source
