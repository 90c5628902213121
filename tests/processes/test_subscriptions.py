"""Issue 4: a client subscribed to a room's or a task's resource hears when ANOTHER agent changes it.

Real server processes and the SDK's clients: ``subscriptions/listen`` (protocol 2026-07-28, the SDK's
``auto`` mode) and legacy ``resources/subscribe`` (``mode="legacy"``), over streamable HTTP and stdio.
In the cross-process tests the writer talks to a DIFFERENT server process than the subscriber
(PostgreSQL: LISTEN/NOTIFY; SQLite: Unix datagram sockets between processes sharing the file).
Every wait is bounded; nothing sleeps to synchronise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, types
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import ResourceUpdated

from mcp_memory.config import load_settings
from mcp_memory.services import open_service
from tests.processes.driver import server_parameters
from tests.processes.servers import AGENTS_TOML, http_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WAIT_SECONDS = 15


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    with anyio.fail_after(WAIT_SECONDS):
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


class LegacyInbox:
    """A ``message_handler`` collecting ``notifications/resources/updated`` of a legacy session."""

    def __init__(self) -> None:
        self.send, self.receive = anyio.create_memory_object_stream[str](100)

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            await self.send.send(str(message.params.uri))

    async def next_uri(self) -> str:
        with anyio.fail_after(WAIT_SECONDS):
            return await self.receive.receive()


async def legacy_subscribe(client: Client, uri: str) -> None:
    with pytest.warns(MCPDeprecationWarning), anyio.fail_after(WAIT_SECONDS):
        await client.subscribe_resource(uri)


@pytest.fixture
def http_config(team_config: Path) -> Path:
    """The backend's config plus two agents with bearer tokens."""
    team_config.write_text(team_config.read_text(encoding="utf-8") + AGENTS_TOML, encoding="utf-8")
    return team_config


async def test_listening_client_hears_another_agents_event_over_streamable_http(http_config: Path) -> None:
    async with (
        http_server(http_config) as server,
        server.client("triage") as triage,
        server.client("billing") as billing,
    ):
        room = await call(triage, "create_room", name="case 7")
        uri = f"memory://rooms/{room['room_id']}/events"
        async with triage.listen(resource_subscriptions=[uri]) as sub:
            assert sub.honored.resource_subscriptions == [uri]
            await call(billing, "store_event", room_id=room["room_id"], content="card declined")
            with anyio.fail_after(WAIT_SECONDS):
                event = await anext(sub)
        assert event == ResourceUpdated(uri=uri)
        page = await triage.read_resource(uri)
        assert "card declined" in page.contents[0].text  # type: ignore[union-attr]


async def test_legacy_subscriber_hears_task_claims_and_nothing_it_did_not_ask_for(http_config: Path) -> None:
    inbox = LegacyInbox()
    async with (
        http_server(http_config) as server,
        server.client("triage", mode="legacy", message_handler=inbox) as triage,
        server.client("billing") as billing,
    ):
        assert triage.server_capabilities.resources is not None
        assert triage.server_capabilities.resources.subscribe is True
        watched = await call(billing, "create_task", title="refund order 1182")
        other = await call(billing, "create_task", title="unrelated")
        await legacy_subscribe(triage, f"memory://tasks/{watched['task_id']}")
        await call(billing, "claim_task", task_id=other["task_id"])
        await call(billing, "claim_task", task_id=watched["task_id"])
        assert await inbox.next_uri() == f"memory://tasks/{watched['task_id']}"


async def test_a_write_on_one_server_process_reaches_a_subscriber_of_another(http_config: Path) -> None:
    inbox = LegacyInbox()
    async with (
        http_server(http_config) as first,
        http_server(http_config) as second,
        first.client("triage") as listener,
        first.client("triage", mode="legacy", message_handler=inbox) as legacy,
        second.client("billing") as writer,
    ):
        room = await call(writer, "create_room", name="cross-process")
        room_uri = f"memory://rooms/{room['room_id']}"
        events_uri = f"{room_uri}/events"
        await legacy_subscribe(legacy, room_uri)
        inbox_uri = "memory://agents/triage/inbox"  # published by the alerts area of a third process
        async with listener.listen(resource_subscriptions=[events_uri, inbox_uri]) as sub:
            await call(writer, "store_event", room_id=room["room_id"], content="from the other process")
            with anyio.fail_after(WAIT_SECONDS):
                event = await anext(sub)
            async with open_service(load_settings(http_config)) as third_process:
                await third_process.alerts.send_alert(
                    third_process.principal("billing"), to_agents=["triage"], message="deals on hold"
                )
            with anyio.fail_after(WAIT_SECONDS):
                published = await anext(sub)
        assert event == ResourceUpdated(uri=events_uri)
        assert published == ResourceUpdated(uri=inbox_uri)
        assert await inbox.next_uri() == room_uri


async def test_stdio_subscribers_hear_a_stdio_writer_in_another_process(team_config: Path) -> None:
    inbox = LegacyInbox()
    async with (
        Client(server_parameters(team_config, "triage")) as listener,
        Client(server_parameters(team_config, "triage"), mode="legacy", message_handler=inbox) as legacy,
        Client(server_parameters(team_config, "billing")) as writer,
    ):
        room = await call(writer, "create_room", name="stdio")
        events_uri = f"memory://rooms/{room['room_id']}/events"
        await legacy_subscribe(legacy, events_uri)
        async with listener.listen(resource_subscriptions=[events_uri]) as sub:
            await call(writer, "store_event", room_id=room["room_id"], content="over stdio")
            with anyio.fail_after(WAIT_SECONDS):
                event = await anext(sub)
        assert event == ResourceUpdated(uri=events_uri)
        assert await inbox.next_uri() == events_uri


async def test_sse_subscriber_hears_an_event_written_over_streamable_http_to_another_server(
    http_config: Path,
) -> None:
    inbox = LegacyInbox()
    async with (
        http_server(http_config, transport="sse") as sse,
        http_server(http_config) as http,
        sse.sse_client("triage", mode="legacy", message_handler=inbox) as triage,
        http.client("billing") as billing,
    ):
        room = await call(billing, "create_room", name="over sse")
        uri = f"memory://rooms/{room['room_id']}/events"
        await legacy_subscribe(triage, uri)
        await call(billing, "store_event", room_id=room["room_id"], content="hello sse")
        assert await inbox.next_uri() == uri
