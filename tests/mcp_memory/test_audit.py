"""Every tool call and resource read is audited; operators query the log, others may not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_memory.config import Settings
from mcp_memory.services import open_service
from storage import AuditFilter
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio

OPERATOR = {"tool_groups": ["rooms", "events", "memories", "audit"]}


async def _records(settings: Settings, **filters: Any) -> list[Any]:
    async with open_service(settings) as service:
        page = await service.store.list_audit(AuditFilter.model_validate(filters), limit=100)
    return list(reversed(page.items))  # oldest first


async def test_tool_calls_are_audited_with_agent_ids_outcome_and_duration(
    connect: Connect, settings: Settings
) -> None:
    async with connect(settings, "triage") as client:
        room = await call(client, "create_room", name="case 1")
        stored = await call(client, "store_event", room_id=room["room_id"], content="hello")
        await call_error(client, "list_events", room_id="room_missing")

    records = await _records(settings)
    assert [(r.agent, r.kind, r.name, r.outcome.value) for r in records] == [
        ("triage", "tool", "create_room", "ok"),
        ("triage", "tool", "store_event", "ok"),
        ("triage", "tool", "list_events", "error"),
    ]
    assert room["room_id"] in records[0].ids
    assert records[1].ids[0] == room["room_id"]  # named in the arguments first
    assert stored["event"]["event_id"] in records[1].ids  # then found in the result
    assert records[2].error_type == "NotFoundError"
    assert records[2].ids == ["room_missing"]
    assert all(r.duration_ms > 0 for r in records)
    assert records[0].at <= records[1].at <= records[2].at


async def test_resource_reads_are_audited(connect: Connect, settings: Settings) -> None:
    async with connect(settings, "triage") as client:
        room = await call(client, "create_room")
        await client.read_resource(f"memory://rooms/{room['room_id']}/events")
        with pytest.raises(MCPError):
            await client.read_resource("memory://memories/mem_missing")

    records = await _records(settings, kind="resource")
    assert [(r.name, r.ids, r.outcome.value, r.error_type) for r in records] == [
        (f"memory://rooms/{room['room_id']}/events", [room["room_id"]], "ok", None),
        ("memory://memories/mem_missing", ["mem_missing"], "error", "NotFoundError"),
    ]


async def test_only_agents_with_the_audit_group_may_query_the_log(
    connect: Connect,
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(agents={"supervisor": OPERATOR})
    async with connect(settings, "triage") as triage:
        await call(triage, "create_room", name="x")
        denied = await call_error(triage, "query_audit_log")
    assert "PermissionDenied" in denied
    assert "audit" in denied
    async with connect(settings, "supervisor") as supervisor:
        page = await call(supervisor, "query_audit_log", agent="triage")
        errors = await call(supervisor, "query_audit_log", outcome="error")
        with anyio.fail_after(10):
            first = await call(supervisor, "query_audit_log", agent="triage", limit=1)
            rest = await call(supervisor, "query_audit_log", agent="triage", cursor=first["next_cursor"])

    assert [r["name"] for r in page["records"]] == ["query_audit_log", "create_room"]
    assert [(r["agent"], r["error_type"]) for r in errors["records"]] == [("triage", "PermissionDeniedError")]
    assert [r["name"] for r in first["records"] + rest["records"]] == ["query_audit_log", "create_room"]
