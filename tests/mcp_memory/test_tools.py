"""The tools through a real MCP client session over each transport (in process) on a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_memory.config import Settings
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    with anyio.fail_after(10):
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def call_error(client: Client, tool: str, **arguments: Any) -> str:
    with anyio.fail_after(10):
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert isinstance(text, str)
    return text


async def test_store_event_assigns_gapless_indexes_and_honours_idempotency_keys(client: Client) -> None:
    room = await call(client, "create_room", name="Order 1182")
    first = await call(client, "store_event", room_id=room["room_id"], content="hello", idempotency_key="k1")
    retry = await call(client, "store_event", room_id=room["room_id"], content="hello", idempotency_key="k1")
    second = await call(client, "store_event", room_id=room["room_id"], content="world")
    assert [first["event"]["index"], second["event"]["index"]] == [1, 2]
    assert retry["created"] is False
    assert retry["event"]["event_id"] == first["event"]["event_id"]
    page = await call(client, "list_events", room_id=room["room_id"])
    assert [e["content"] for e in page["events"]] == ["hello", "world"]
    assert page["has_more"] is False


async def test_list_events_pages_with_next_after_index(client: Client) -> None:
    room = await call(client, "create_room")
    for n in range(7):
        await call(client, "store_event", room_id=room["room_id"], content=f"message {n}")
    seen: list[int] = []
    after = None
    while True:
        page = await call(client, "list_events", room_id=room["room_id"], limit=3, after_index=after)
        seen += [e["index"] for e in page["events"]]
        if not page["has_more"]:
            break
        after = page["next_after_index"]
    assert seen == list(range(1, 8))


async def test_sender_address_resolves_one_identity_across_channels(client: Client) -> None:
    room = await call(client, "create_room")
    sms = await call(
        client,
        "store_event",
        room_id=room["room_id"],
        content="my bill is wrong",
        channel_type="sms",
        sender_address="+1 (555) 010-2000",
    )
    identity_id = sms["event"]["source"]["sender_identity_id"]
    linked = await call(
        client, "link_address", identity_id=identity_id, channel_type="email", address="Ana@Example.com"
    )
    assert {(a["channel_type"], a["address"]) for a in linked["addresses"]} == {
        ("sms", "+15550102000"),
        ("email", "ana@example.com"),
    }
    resolved = await call(client, "resolve_identity", channel_type="email", address="ana@example.com ")
    assert resolved["identity"]["identity_id"] == identity_id
    assert resolved["created"] is False
    state = await call(client, "get_conversation_state", room_id=room["room_id"])
    assert {"participant_id": identity_id, "role": "customer"}.items() <= next(
        p for p in state["participants"] if p["kind"] == "identity"
    ).items()


async def test_handoff_sets_active_agent_and_counts(client: Client) -> None:
    room = await call(client, "create_room")
    result = await call(client, "handoff", room_id=room["room_id"], to_agent="billing", reason="refund")
    assert result["state"]["active_agent"] == "billing"
    assert result["state"]["handoff_count"] == 1
    assert result["event"]["type"] == "handoff"
    state = await call(client, "get_conversation_state", room_id=room["room_id"])
    assert "billing" in {p["participant_id"] for p in state["participants"]}


async def test_remember_search_and_forget(client: Client) -> None:
    memory = await call(
        client,
        "remember",
        content="Customer Ana prefers email over phone calls",
        namespace="shared-customers",
        kind="observation",
        tags=["ana"],
    )
    found = await call(client, "search_memory", query="how does Ana like to be contacted email", tags=["ana"])
    assert found["mode"] == "lexical"
    assert [r["id"] for r in found["results"]] == [memory["memory_id"]]
    await call(client, "forget", memory_id=memory["memory_id"])
    again = await call(client, "search_memory", query="Ana email")
    assert again["results"] == []


async def test_writing_outside_the_policy_is_a_tool_error_and_writes_nothing(client: Client) -> None:
    message = await call_error(client, "remember", content="secret", namespace="agent-billing")
    assert "may not write namespace 'agent-billing'" in message
    assert (await call(client, "search_memory", query="secret"))["results"] == []


async def test_claim_task_conflict_names_the_winner(connect: Connect, settings: Settings) -> None:
    async with connect(settings, "technical") as technical, connect(settings, "billing") as billing:
        task = await call(technical, "create_task", title="Refund duplicate charge", priority=2)
        won = await call(billing, "claim_task", task_id=task["task_id"])
        assert won["assignee"] == "billing"
        message = await call_error(technical, "claim_task", task_id=task["task_id"])
        assert "already claimed by billing" in message


async def test_update_task_with_stale_version_fails_and_changes_nothing(client: Client) -> None:
    task = await call(client, "create_task", title="Check logs")
    updated = await call(
        client, "update_task", task_id=task["task_id"], expected_version=1, status="in_progress"
    )
    assert updated["version"] == 2
    message = await call_error(
        client, "update_task", task_id=task["task_id"], expected_version=1, status="done"
    )
    assert "is at version 2, you sent 1" in message
    tasks = await call(client, "list_tasks", status=["in_progress"])
    assert [t["task_id"] for t in tasks["tasks"]] == [task["task_id"]]


async def test_escalation_package_is_readable_as_a_resource(client: Client) -> None:
    room = await call(client, "create_room", name="case")
    await call(
        client,
        "store_event",
        room_id=room["room_id"],
        content="charged twice",
        channel_type="sms",
        sender_address="+15550100",
    )
    await call(
        client,
        "remember",
        content="double charge on invoice 7",
        kind="observation",
        namespace="shared-cases",
        room_id=room["room_id"],
    )
    await call(client, "create_task", title="refund", room_id=room["room_id"])
    escalation = await call(
        client, "escalate", room_id=room["room_id"], reason="refund above limit", queue="billing-humans"
    )
    assert escalation["handoff_event_count"] == 1
    assert escalation["handoff_open_task_count"] == 1
    with anyio.fail_after(10):
        resource = await client.read_resource(f"memory://escalations/{escalation['escalation_id']}")
    text = resource.contents[0].text  # type: ignore[union-attr]
    assert "double charge on invoice 7" in text
    assert "+15550100" in text
    listed = await call(client, "list_escalations", status=["open"])
    assert [e["escalation_id"] for e in listed["escalations"]] == [escalation["escalation_id"]]
    resolved = await call(
        client, "resolve_escalation", escalation_id=escalation["escalation_id"], resolution="refunded"
    )
    assert resolved["status"] == "resolved"


async def test_unknown_room_is_an_actionable_tool_error(client: Client) -> None:
    message = await call_error(client, "store_event", room_id="room_missing", content="x")
    assert "room_missing" in message
    assert "not found" in message


async def test_invalid_namespace_is_an_actionable_tool_error(client: Client) -> None:
    message = await call_error(client, "remember", content="x", namespace="Shared Stuff")
    assert "namespace" in message


async def test_resources_read_rooms_tasks_and_memories(client: Client) -> None:
    room = await call(client, "create_room", name="r")
    await call(client, "store_event", room_id=room["room_id"], content="first")
    task = await call(client, "create_task", title="t")
    memory = await call(client, "remember", content="m")
    for uri, needle in (
        (f"memory://rooms/{room['room_id']}", room["room_id"]),
        (f"memory://rooms/{room['room_id']}/events", "first"),
        (f"memory://tasks/{task['task_id']}", task["task_id"]),
        (f"memory://memories/{memory['memory_id']}", memory["memory_id"]),
    ):
        with anyio.fail_after(10):
            result = await client.read_resource(uri)
        assert needle in result.contents[0].text  # type: ignore[union-attr]
    templates = await client.list_resource_templates()
    assert {t.uri_template for t in templates.resource_templates} >= {
        "memory://rooms/{room_id}",
        "memory://rooms/{room_id}/events",
        "memory://identities/{identity_id}",
        "memory://memories/{memory_id}",
        "memory://tasks/{task_id}",
        "memory://escalations/{escalation_id}",
    }


async def test_search_results_are_capped_to_the_character_budget(
    connect: Connect, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(limits={"max_chars_per_response": 3000})
    async with connect(settings, "triage") as client:
        for n in range(10):
            await call(client, "remember", content=f"invoice dispute {n} " + "detail " * 150)
        found = await call(client, "search_memory", query="invoice dispute", limit=10)
    assert found["cut_to_fit"] is True
    assert 1 <= len(found["results"]) < 10
