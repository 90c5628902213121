"""What an agent sees and may send, through real MCP sessions over every transport: its tools/list holds
exactly the tools its policy allows (compact schemas); an unknown argument or oversized free-form JSON is a
tool error that says what to do; every reply is compact JSON within ``limits.max_chars_per_response``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_memory.auth import PROFILES
from mcp_memory.config import Settings
from tests.mcp_memory.test_tool_contracts import GROUPS
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio

#: One agent per profile, one with its own groups, and one without the right to resolve escalations.
POLICIES: dict[str, dict[str, Any]] = {
    "knower": {"profile": "core"},
    "desk": {"profile": "coordination", "may_resolve_escalations": False, "may_escalate": False},
    "keeper": {"profile": "governance"},
    "ops": {"profile": "operator"},
    "custom": {"tool_groups": ["memories", "audit"]},
}


def tools_of(groups: tuple[str, ...] | list[str]) -> set[str]:
    return {tool for group in groups for tool in GROUPS[group]}


async def listed(client: Client) -> set[str]:
    with anyio.fail_after(10):
        return {tool.name for tool in (await client.list_tools()).tools}


async def test_tools_list_holds_exactly_the_tools_each_policy_allows(
    connect: Connect, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(agents=POLICIES)
    async with connect.team(settings, list(POLICIES)) as team:
        assert await listed(team["knower"]) == tools_of(PROFILES["core"])
        assert await listed(team["desk"]) == tools_of(PROFILES["coordination"]) - {
            "escalate",
            "acknowledge_escalation",
            "resolve_escalation",
        }
        assert await listed(team["keeper"]) == tools_of(PROFILES["governance"])
        assert await listed(team["ops"]) == set().union(*GROUPS.values())
        assert await listed(team["custom"]) == GROUPS["memories"] | GROUPS["audit"]


async def test_a_tool_the_policy_does_not_allow_is_refused_with_the_reason(
    connect: Connect, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(agents=POLICIES)
    async with connect.team(settings, ["knower", "desk"]) as team:
        refused = await call_error(team["knower"], "create_room", name="not for me")
        assert refused.startswith("PermissionDenied: agent 'knower' may not use rooms tools")
        room = await call(team["desk"], "create_room", name="front desk")
        refused = await call_error(team["desk"], "escalate", room_id=room["room_id"], reason="help")
        assert refused == "PermissionDenied: agent 'desk' may not call escalate (policy may_escalate=false)"


async def test_listed_schemas_are_compact_and_every_parameter_is_described(client: Client) -> None:
    tools = (await client.list_tools()).tools
    text = json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])
    assert '"$defs"' not in text
    assert '"$ref"' not in text
    assert '"title": "' not in text.replace('"title": {"description"', "")  # a parameter may be named title
    assert '{"type": "null"}' not in text
    for tool in tools:
        assert tool.output_schema == {"type": "object"}
        for name, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{tool.name}.{name}"


async def test_an_unknown_argument_is_a_tool_error_naming_the_accepted_parameters(client: Client) -> None:
    await call(client, "remember", content="refunds take 5 days", task_id="T-1")
    # Near misses of real parameters (task_id, exclude_authors, visibility) are refused, never ignored.
    message = await call_error(client, "search_memory", query="refunds", task="T-1", exclude_author="me")
    assert message.startswith("InvalidInput: search_memory has no parameter 'exclude_author', 'task'")
    assert "it accepts: query, namespaces, kinds, tags, room_id" in message
    room = await call(client, "create_room", name="r")
    message = await call_error(client, "list_events", room_id=room["room_id"], visible="agents")
    assert "list_events has no parameter 'visible'" in message


async def test_free_form_json_over_a_cap_is_refused_and_nothing_is_written(
    connect: Connect, settings_factory: Callable[..., Settings]
) -> None:
    limits = {"max_json_bytes": 2_000, "max_json_depth": 3, "max_json_keys": 20}
    async with connect(settings_factory(limits=limits), "triage") as client:
        too_many = {f"k{i}": i for i in range(21)}
        message = await call_error(client, "remember", content="x", metadata=too_many)
        assert (
            message == "InvalidInput: remember: metadata has 21 keys, over the limit of 20: keep fewer keys"
        )
        message = await call_error(client, "create_room", name="r", metadata={"a": {"b": {"c": {"d": 1}}}})
        assert "metadata nests 4 levels deep, over the limit of 3" in message
        message = await call_error(client, "set_fact", namespace="shared-x", key="k", value="v" * 2_001)
        assert "set_fact: value is 2003 bytes of JSON, over the limit of 2000" in message
        message = await call_error(
            client, "add_relation", source="a", relation_type="r", target="b", properties={"p": "é" * 1_000}
        )
        assert "properties is 2008 bytes of JSON" in message
        found = await call(client, "search_memory", query="x")
        assert found["results"] == []
        assert (await call(client, "remember", content="x", metadata={f"k{i}": i for i in range(20)}))[
            "memory_id"
        ]


async def test_replies_are_compact_json_within_max_chars_per_response(
    connect: Connect, settings_factory: Callable[..., Settings]
) -> None:
    async with connect(settings_factory(limits={"max_chars_per_response": 2_000}), "triage") as client:
        with anyio.fail_after(10):
            result = await client.call_tool(
                "remember", {"content": "é" * 6_000 + "the end", "metadata": {"n": 1}}
            )
        assert not result.is_error
        text = result.content[0].text  # type: ignore[union-attr]
        assert len(text) <= 2_000
        assert json.loads(text) == result.structured_content
        assert ", " not in text
        assert "\n" not in text
        echoed = result.structured_content
        assert echoed is not None
        assert echoed["content"].endswith("more characters]")
        assert echoed["metadata"] == {"n": 1}
        with anyio.fail_after(10):
            contents = (await client.read_resource(f"memory://memories/{echoed['memory_id']}")).contents
        assert len(contents[0].text) <= 2_000  # type: ignore[union-attr]
        assert json.loads(contents[0].text)["memory_id"] == echoed["memory_id"]  # type: ignore[union-attr]
