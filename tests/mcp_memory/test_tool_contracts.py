"""Pins every tool's name, group, parameters, descriptions and annotations (as an operator sees them: every
tool). Budgets of the list's size: ``test_tool_budget.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from mcp_memory.auth import TOOL_GROUPS
from mcp_memory.config import Settings
from mcp_memory.tools import register_all
from mcp_memory.tools._common import AppState
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio

EXPECTED: dict[str, set[str]] = {
    "create_room": {"name", "room_id", "namespace", "participants", "metadata"},
    "get_conversation_state": {"room_id"},
    "handoff": {"room_id", "to_agent", "reason"},
    "list_rooms": {"namespace", "status", "participant", "identity_id", "limit", "cursor"},
    "update_room": {"room_id", "phase", "expected_version", "close"},
    "manage_participant": {"room_id", "action", "participant_id", "kind", "role"},
    "manage_channel_binding": {"room_id", "action", "channel_id", "channel_type", "config"},
    "store_event": {
        "room_id",
        "content",
        "type",
        "channel_type",
        "sender_address",
        "visibility",
        "sensitivity",
        "idempotency_key",
        "occurred_at",
        "metadata",
    },
    "list_events": {
        "room_id",
        "after_index",
        "before_index",
        "limit",
        "types",
        "visibility",
        "channel_type",
        "sender_identity_id",
    },
    "resolve_identity": {"channel_type", "address", "display_name"},
    "link_address": {"identity_id", "channel_type", "address"},
    "unlink_address": {"channel_type", "address"},
    "merge_identities": {"source_id", "into_id"},
    "get_customer_history": {"identity_id", "channel_type", "address", "events_per_room", "limit", "cursor"},
    "remember": {
        "content",
        "namespace",
        "kind",
        "tags",
        "room_id",
        "task_id",
        "session_id",
        "sensitivity",
        "importance",
        "metadata",
    },
    "search_memory": {
        "query",
        "namespaces",
        "kinds",
        "tags",
        "room_id",
        "session_id",
        "include_events",
        "metadata",
        "created_after",
        "created_before",
        "half_life_hours",
        "task_id",
        "exclude_authors",
        "importance_weight",
        "limit",
    },
    "list_memories": {
        "namespaces",
        "kinds",
        "tags",
        "metadata",
        "task_id",
        "room_id",
        "session_id",
        "authors",
        "exclude_authors",
        "created_after",
        "created_before",
        "limit",
        "cursor",
    },
    "create_session": {"namespace", "metadata", "session_id"},
    "get_session": {"session_id"},
    "forget": {"memory_id"},
    "create_task": {"title", "description", "priority", "room_id", "assignee", "namespace", "metadata"},
    "claim_task": {"task_id", "expected_version"},
    "update_task": {
        "task_id",
        "expected_version",
        "status",
        "title",
        "description",
        "priority",
        "assignee",
        "metadata",
    },
    "list_tasks": {"status", "assignee", "room_id", "limit", "cursor"},
    "escalate": {"room_id", "task_id", "reason", "queue", "assignee", "priority"},
    "list_escalations": {"status", "room_id", "queue", "limit", "cursor"},
    "acknowledge_escalation": {"escalation_id"},
    "resolve_escalation": {"escalation_id", "resolution"},
    "add_relation": {
        "source",
        "relation_type",
        "target",
        "namespace",
        "source_type",
        "target_type",
        "confidence",
        "properties",
    },
    "set_entity": {"name", "type", "namespace", "properties", "sensitivity"},
    "get_entity": {"entity", "namespace", "type"},
    "traverse_graph": {"start", "namespace", "max_depth", "relation_types", "direction", "max_nodes"},
    "send_alert": {"to_agents", "message", "severity", "room_id"},
    "read_inbox": {"include_acked", "limit", "cursor"},
    "ack_alert": {"alert_id"},
    "prune_memories": {"dry_run"},
    "get_fact": {"namespace", "key"},
    "set_fact": {"namespace", "key", "value", "expected_version", "sensitivity"},
    "delete_fact": {"namespace", "key", "expected_version"},
    "list_facts": {"namespace", "prefix", "limit", "cursor"},
    "fact_history": {"namespace", "key", "limit", "before_version"},
    "snapshot_namespace": {"namespace", "label"},
    "list_snapshots": {"namespace", "limit", "cursor"},
    "rollback_namespace": {"namespace", "snapshot_id"},
    "branch_namespace": {"namespace", "snapshot_id", "new_namespace"},
    "merge_branch": {"branch", "into"},
    "query_audit_log": {"agent", "tool", "item_id", "outcome", "kind", "since", "limit", "cursor"},
    "get_coordination_stats": {"by", "since"},
}

READ_ONLY = {
    "get_customer_history",
    "get_conversation_state",
    "list_rooms",
    "list_events",
    "search_memory",
    "list_memories",
    "get_session",
    "list_tasks",
    "list_escalations",
    "get_entity",
    "traverse_graph",
    "read_inbox",
    "get_fact",
    "list_facts",
    "fact_history",
    "list_snapshots",
    "query_audit_log",
    "get_coordination_stats",
}
DESTRUCTIVE = {"forget", "delete_fact", "rollback_namespace", "prune_memories"}


GROUPS: dict[str, set[str]] = {
    "rooms": {"create_room", "get_conversation_state", "handoff", "list_rooms"},
    "room_admin": {"update_room", "manage_participant", "manage_channel_binding"},
    "events": {"store_event", "list_events"},
    "identities": {"resolve_identity", "link_address", "get_customer_history"},
    "identity_admin": {"unlink_address", "merge_identities"},
    "memories": {"remember", "search_memory", "list_memories", "forget"},
    "sessions": {"create_session", "get_session"},
    "tasks": {"create_task", "claim_task", "update_task", "list_tasks"},
    "escalations": {"escalate", "list_escalations", "acknowledge_escalation", "resolve_escalation"},
    "graph": {"add_relation", "set_entity", "get_entity", "traverse_graph"},
    "alerts": {"send_alert", "read_inbox", "ack_alert"},
    "facts": {"get_fact", "set_fact", "delete_fact", "list_facts", "fact_history"},
    "snapshots": {
        "snapshot_namespace",
        "list_snapshots",
        "rollback_namespace",
        "branch_namespace",
        "merge_branch",
    },
    "retention": {"prune_memories"},
    "audit": {"query_audit_log", "get_coordination_stats"},
}


@pytest.fixture
async def client(connect: Connect, settings_factory: Callable[..., Settings]) -> AsyncIterator[Client]:
    """A client of an agent with the ``operator`` profile: every tool is listed."""
    async with connect(settings_factory(default_policy={"profile": "operator"}), "ops") as connected:
        yield connected


def test_every_tool_is_in_exactly_one_group() -> None:
    groups = register_all(MCPServer[AppState](name="groups"))
    assert set(groups) == set(EXPECTED)
    assert {g: {t for t, tg in groups.items() if tg == g} for g in TOOL_GROUPS} == GROUPS


async def test_tool_names_and_parameters_are_pinned(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert {t.name: set(t.input_schema.get("properties", {})) for t in tools} == EXPECTED


async def test_every_tool_has_a_description_annotations_and_an_output_schema(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        assert tool.description, tool.name
        assert len(tool.description) >= 40, tool.name
        for name, parameter in tool.input_schema["properties"].items():
            words = str(parameter.get("description", ""))
            assert len(words) >= 8, f"{tool.name}.{name} needs a description in words"
            assert " " in words, f"{tool.name}.{name} needs a description in words"
        assert tool.annotations is not None, tool.name
        read_only = bool(tool.annotations.read_only_hint)
        assert read_only is (tool.name in READ_ONLY), tool.name
        # Unset hints take the spec's defaults (destructiveHint true) and mean nothing on read-only tools.
        destructive = not read_only and tool.annotations.destructive_hint is not False
        assert destructive is (tool.name in DESTRUCTIVE), tool.name
        assert tool.annotations.open_world_hint is False, tool.name
        assert tool.output_schema == {"type": "object"}, tool.name
