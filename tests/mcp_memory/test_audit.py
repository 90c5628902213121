"""Every tool call and resource read is audited exactly once, and so is every in-process service call;
operators query the log, others may not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_memory.auth import TOOL_GROUPS
from mcp_memory.config import Settings
from mcp_memory.services import open_service
from storage import AuditFilter, ConflictError, NotFoundError
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


async def test_every_tool_call_is_audited_exactly_once(
    connect: Connect, settings_factory: Callable[..., Settings]
) -> None:
    """Each tool, called once through a real session (with no arguments: some succeed, most are refused
    by argument validation), leaves exactly one record under its own name; the service calls a tool
    makes join its record instead of adding their own."""
    settings = settings_factory(agents={"ops": {"tool_groups": list(TOOL_GROUPS)}})
    outcomes: dict[str, str] = {}
    async with connect(settings, "ops") as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        for name in tools:
            with anyio.fail_after(10):
                result = await client.call_tool(name, {})
            outcomes[name] = "error" if result.is_error else "ok"

    records = await _records(settings)
    assert len(tools) >= 36
    assert {"ok", "error"} <= set(outcomes.values())  # both paths are exercised
    assert sorted((r.name, r.outcome.value) for r in records) == sorted(outcomes.items())
    assert {(r.agent, r.kind) for r in records} == {("ops", "tool")}
    # Calls refused by argument validation (before any tool code runs) are audited too.
    assert "ValidationError" in {r.error_type for r in records}


async def test_in_process_service_calls_are_audited_once_each(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(retention={"shared-scratch": {"max_memories": 1}})
    async with open_service(settings) as service:
        me = service.principal("triage")
        room = await service.rooms.create_room(me, name="case 9")
        stored = await service.events.store_event(me, room.room_id, "hello")  # reads the room: one record
        task = await service.tasks.create_task(me, "call back")
        with pytest.raises(NotFoundError):
            await service.tasks.claim_task(me, "task_missing")
        with pytest.raises(ConflictError):
            await service.tasks.claim_task(me, task.task_id, expected_version=7)
        old = await service.memories.remember(me, "scratch 1", namespace="shared-scratch")
        await service.memories.remember(me, "scratch 2", namespace="shared-scratch", importance=0.9)
        report = await service.retention.prune_memories(me, dry_run=False)  # calls prune(): one record

    records = await _records(settings)
    assert [(r.agent, r.kind, r.name, r.outcome.value, r.error_type) for r in records] == [
        ("triage", "tool", "rooms.create_room", "ok", None),
        ("triage", "tool", "events.store_event", "ok", None),
        ("triage", "tool", "tasks.create_task", "ok", None),
        ("triage", "tool", "tasks.claim_task", "error", "NotFoundError"),
        ("triage", "tool", "tasks.claim_task", "error", "ConflictError"),
        ("triage", "tool", "memories.remember", "ok", None),
        ("triage", "tool", "memories.remember", "ok", None),
        ("triage", "tool", "retention.prune_memories", "ok", None),
    ]
    assert room.room_id in records[0].ids
    assert records[1].ids[0] == room.room_id  # named in the arguments first
    assert stored.event.event_id in records[1].ids  # then found in the result
    assert records[3].ids == ["task_missing"]
    assert report.pruned == 1
    assert records[-1].ids == [old.memory_id]  # what the run removed


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
