"""Subscriptions go through the read rules (issue 14, finding 1), on both backends and every transport.

A subscription the caller's policy refuses is refused like the read; a hidden item is accepted like a
missing one; and a change the subscriber cannot see never reaches it. "Never reaches it" is checked
without sleeping: after the hidden changes, a visible change is made, and it must be the first event heard.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_memory.crypto import ContentCipher
from tests.mcp_memory.team import pg_server_or_none, team, team_settings
from tests.mcp_memory.test_tools import call

__all__ = ["pg_server_or_none", "team", "team_settings"]

pytestmark = pytest.mark.anyio

#: Confidential content needs a key.
KEY = ContentCipher.generate_key()


@pytest.fixture
def team_overrides() -> dict[str, Any]:
    return {"encryption_key": KEY}


async def first_uri_heard(client: Client, uris: list[str], after: Any) -> str:
    """Listen to ``uris``, run ``after()``, return the URI of the first notification."""
    with anyio.fail_after(15):
        async with client.listen(resource_subscriptions=uris) as subscription:
            await after()
            async for event in subscription:
                return str(getattr(event, "uri", ""))
    raise AssertionError("the stream ended without a notification")


@pytest.mark.parametrize(
    "uri",
    ["memory://agents/lead/inbox", "memory://facts/agent-lead/plan", "memory://facts/agent-lead"],
)
async def test_a_subscription_the_policy_refuses_is_refused_like_the_read(
    team: dict[str, Client], uri: str
) -> None:
    billing = team["billing"]
    with anyio.fail_after(10), pytest.raises(MCPError) as read:
        await billing.read_resource(uri)
    with anyio.fail_after(10), pytest.raises(MCPError) as listen:
        async with billing.listen(resource_subscriptions=[uri]):
            pass
    assert listen.value.error.message == read.value.error.message


async def test_changes_to_hidden_items_never_reach_a_subscriber(team: dict[str, Client]) -> None:
    lead, billing = team["lead"], team["billing"]
    hidden_room = await call(lead, "create_room", name="private", namespace="agent-lead")
    hidden_memory = await call(lead, "remember", content="lead's plan", namespace="agent-lead")
    await call(lead, "set_fact", namespace="shared-deal", key="visible", value=1)
    control = "memory://facts/shared-deal/visible"
    hidden = [
        f"memory://rooms/{hidden_room['room_id']}/events",
        f"memory://rooms/{hidden_room['room_id']}",
        f"memory://memories/{hidden_memory['memory_id']}",
        "memory://rooms/no-such-room/events",
    ]

    async def changes() -> None:
        await call(lead, "store_event", room_id=hidden_room["room_id"], content="secret")
        await call(lead, "forget", memory_id=hidden_memory["memory_id"])
        await call(lead, "set_fact", namespace="shared-deal", key="visible", value=2, expected_version=1)

    assert await first_uri_heard(billing, [*hidden, control], changes) == control


async def test_changes_above_the_clearance_never_reach_a_subscriber(team: dict[str, Client]) -> None:
    lead, triage = team["lead"], team["triage"]  # triage's clearance is internal
    room = await call(lead, "create_room", name="shared case")
    await call(lead, "store_event", room_id=room["room_id"], content="hello")
    await call(lead, "set_fact", namespace="shared-deal", key="terms", value="x", sensitivity="confidential")
    await call(lead, "set_fact", namespace="shared-deal", key="visible", value=1)
    control = "memory://facts/shared-deal/visible"
    above = [
        f"memory://rooms/{room['room_id']}/events",
        "memory://facts/shared-deal/terms",
    ]

    async def changes() -> None:
        await call(
            lead, "store_event", room_id=room["room_id"], content="card 4111", sensitivity="confidential"
        )
        await call(
            lead,
            "set_fact",
            namespace="shared-deal",
            key="terms",
            value="y",
            expected_version=1,
            sensitivity="confidential",
        )
        await call(lead, "set_fact", namespace="shared-deal", key="visible", value=2, expected_version=1)

    assert await first_uri_heard(triage, [*above, control], changes) == control


async def test_a_visible_change_reaches_the_subscriber(team: dict[str, Client]) -> None:
    lead, billing = team["lead"], team["billing"]
    room = await call(lead, "create_room", name="shared case")
    uri = f"memory://rooms/{room['room_id']}/events"

    async def change() -> None:
        await call(lead, "store_event", room_id=room["room_id"], content="hello")

    assert await first_uri_heard(billing, [uri], change) == uri
