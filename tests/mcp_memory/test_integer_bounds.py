"""Integers beyond a 64-bit SQL integer are refused by the tools' input schemas, the same on both backends
(issue 14, finding 5: SQLite ended in a bare "Error executing tool" and an ``OverflowError`` traceback)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_memory.config import Settings
from mcp_memory.tools._common import MAX_SQL_INTEGER
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio

TOO_BIG = [2**63, 10**20]


def _cases(room_id: str, task_id: str) -> list[tuple[str, dict[str, Any], str]]:
    """(tool, arguments without the big integer, the argument that gets it)."""
    return [
        ("list_events", {"room_id": room_id}, "after_index"),
        ("list_events", {"room_id": room_id}, "before_index"),
        ("fact_history", {"namespace": "shared-deal", "key": "k"}, "before_version"),
        ("set_fact", {"namespace": "shared-deal", "key": "k", "value": 1}, "expected_version"),
        ("delete_fact", {"namespace": "shared-deal", "key": "k"}, "expected_version"),
        ("claim_task", {"task_id": task_id}, "expected_version"),
        ("update_task", {"task_id": task_id, "title": "x"}, "expected_version"),
    ]


async def test_integers_beyond_64_bits_get_a_clear_invalid_input_on_both_backends(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room = await call(client, "create_room", name="bounds")
        task = await call(client, "create_task", title="t", room_id=room["room_id"])
        await call(client, "set_fact", namespace="shared-deal", key="k", value=1)
        for tool, arguments, name in _cases(room["room_id"], task["task_id"]):
            for value in TOO_BIG:
                message = await call_error(client, tool, **arguments, **{name: value})
                assert message.startswith("InvalidInput:"), (tool, name, message)
                assert name in message, (tool, name, message)
                assert "less than or equal" in message, (tool, name, message)
        # The largest accepted value reaches the store and gets an ordinary answer.
        events = await call(client, "list_events", room_id=room["room_id"], after_index=MAX_SQL_INTEGER)
        assert events["events"] == []


async def test_the_bounds_are_in_the_tools_input_schemas(client: Client) -> None:
    with anyio.fail_after(10):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    for tool, _, name in _cases("r", "t"):
        schema = tools[tool].input_schema["properties"][name]
        options = schema.get("anyOf", [schema])
        assert any(option.get("maximum") == MAX_SQL_INTEGER for option in options), (tool, name, schema)
