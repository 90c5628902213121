"""The resource of a namespace's memory changes through real client sessions, on both backends."""

from __future__ import annotations

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_memory.config import Settings
from tests.mcp_memory.test_facts_versions import read_json
from tests.mcp_memory.test_tools import call
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio

URI = "memory://namespaces/shared-customer-context/memories"


async def test_remember_and_forget_notify_the_namespaces_subscribers(
    connect: Connect, backend_settings: Settings
) -> None:
    async with (
        connect(backend_settings, "triage") as triage,
        connect(backend_settings, "billing") as billing,
    ):
        with anyio.fail_after(15):
            async with triage.listen(resource_subscriptions=[URI]) as subscription:
                kept = await call(
                    billing, "remember", content="prefers email", namespace="shared-customer-context"
                )
                async for event in subscription:
                    assert getattr(event, "uri", None) == URI
                    break
                assert [m["content"] for m in (await read_json(triage, URI))["memories"]] == ["prefers email"]
                await call(billing, "forget", memory_id=kept["memory_id"])
                async for event in subscription:
                    assert getattr(event, "uri", None) == URI
                    break
        assert (await read_json(triage, URI))["memories"] == []


async def test_a_namespace_the_caller_may_not_read_is_refused(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as triage:
        with anyio.fail_after(10), pytest.raises(MCPError, match="may not read namespace 'agent-billing'"):
            await triage.read_resource("memory://namespaces/agent-billing/memories")
