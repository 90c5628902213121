"""MCP prompts through real client sessions, on both backends: they embed the room's and the escalation's
resources, run in the caller's scope, and fail clearly on a hidden room."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import EmbeddedResource, TextContent, TextResourceContents

from mcp_memory.config import Settings
from tests.mcp_memory.test_tools import call
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def test_prompts_are_listed_with_their_arguments(connect: Connect, backend_settings: Settings) -> None:
    async with connect(backend_settings, "triage") as client:
        with anyio.fail_after(10):
            prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == {"catch_up_on_room", "handoff_briefing", "escalation_summary"}
    arguments = {name: {(a.name, a.required) for a in p.arguments or []} for name, p in prompts.items()}
    assert arguments["catch_up_on_room"] == {("room_id", True)}
    assert arguments["handoff_briefing"] == {("room_id", True), ("to_agent", False)}
    assert arguments["escalation_summary"] == {("escalation_id", True)}
    assert all(p.description for p in prompts.values())


async def test_room_prompts_embed_the_state_timeline_notes_and_open_tasks(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room = await call(client, "create_room", name="Order 1182")
        room_id = room["room_id"]
        await call(client, "store_event", room_id=room_id, content="my parcel never arrived")
        await call(
            client,
            "remember",
            content="carrier lost it",
            kind="observation",
            room_id=room_id,
            namespace="shared-notes",
        )
        await call(client, "create_task", title="file a carrier claim", room_id=room_id)
        with anyio.fail_after(10):
            result = await client.get_prompt("handoff_briefing", {"room_id": room_id, "to_agent": "billing"})
    first = result.messages[0].content
    assert isinstance(first, TextContent)
    assert "billing" in first.text
    assert room_id in first.text
    embedded = {
        str(m.content.resource.uri): m.content.resource.text
        for m in result.messages
        if isinstance(m.content, EmbeddedResource) and isinstance(m.content.resource, TextResourceContents)
    }
    assert set(embedded) == {f"memory://rooms/{room_id}", f"memory://rooms/{room_id}/events"}
    events = json.loads(embedded[f"memory://rooms/{room_id}/events"])
    assert [e["content"] for e in events["events"]] == ["my parcel never arrived"]
    texts = " ".join(m.content.text for m in result.messages[1:] if isinstance(m.content, TextContent))
    assert "carrier lost it" in texts
    assert "file a carrier claim" in texts


async def test_escalation_summary_embeds_the_package_and_hidden_rooms_fail(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room = await call(client, "create_room", namespace="agent-triage")
        await call(client, "store_event", room_id=room["room_id"], content="I want a refund of 900 EUR")
        escalation = await call(client, "escalate", room_id=room["room_id"], reason="refund above limit")
        with anyio.fail_after(10):
            result = await client.get_prompt(
                "escalation_summary", {"escalation_id": escalation["escalation_id"]}
            )
        resource = result.messages[1].content.resource  # type: ignore[union-attr]
        assert str(resource.uri) == f"memory://escalations/{escalation['escalation_id']}"
        assert "I want a refund of 900 EUR" in resource.text  # type: ignore[union-attr]
    async with connect(backend_settings, "billing") as other:
        with anyio.fail_after(10), pytest.raises(MCPError, match="room"):
            await other.get_prompt("catch_up_on_room", {"room_id": room["room_id"]})
