"""Proof over HTTP: the shipped support-team config served by its real Starlette app, real SDK clients.

Each test loads ``configs/support-team.toml`` (tokens and the encryption key in the environment, lexical
search) and mounts the app ``mcp-memory serve`` would run for the transport in process (see
``tests/mcp_memory/transports.py``), then connects with the SDK's streamable-HTTP client and its SSE
client. Two agents with different policies see different things; a missing or wrong token gets HTTP 401
and nothing runs (nothing reaches the audit log). The served process itself (signals, ``/health`` while
draining) is tested in ``tests/processes``.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_memory.config import load_settings
from mcp_memory.crypto import ContentCipher
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import MountedApp, mounted_app

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "support-team.toml"
TOKENS = {
    agent: f"token-{agent}-{os.urandom(8).hex()}"
    for agent in ("triage", "technical", "billing", "supervisor")
}


class RunningServer:
    """The support team's app for one transport, and where its tenant's data lives."""

    def __init__(self, mounted: MountedApp, data_dir: Path) -> None:
        self.mounted = mounted
        self.transport = mounted.transport
        self.data_dir = data_dir

    def connect(self, agent: str | None, token: str | None = None) -> AbstractAsyncContextManager[Client]:
        """A client of the SDK for this transport, sending ``agent``'s token (or ``token``)."""
        return self.mounted.client(token=token if token is not None else (TOKENS[agent] if agent else ""))


@pytest.fixture(params=["streamable-http", "sse"])
async def server(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningServer]:
    for agent, token in TOKENS.items():
        monkeypatch.setenv(f"MCP_MEMORY_TOKEN_{agent.upper()}", token)
    data_dir = tmp_path / "support"
    settings = load_settings(
        CONFIG,
        data_dir=data_dir,
        embedder={"provider": "none"},
        encryption_key=ContentCipher.generate_key(),
    )
    async with mounted_app(settings, request.param) as mounted:
        yield RunningServer(mounted, data_dir)


@asynccontextmanager
async def session(server: RunningServer, agent: str) -> AsyncIterator[Client]:
    with anyio.fail_after(30):
        async with server.connect(agent) as client:
            yield client


async def _audit(server: RunningServer, **filters: Any) -> list[dict[str, Any]]:
    async with session(server, "supervisor") as supervisor:
        page = await call(supervisor, "query_audit_log", limit=100, **filters)
    return list(reversed(page["records"]))


async def test_no_token_or_a_wrong_token_gets_401_and_nothing_runs(server: RunningServer) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "x", "version": "1"},
        },
    }
    http = server.mounted.http
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKENS['billing']}"},
    ):
        with anyio.fail_after(10):
            if server.transport == "sse":
                response = await http.get("/sse", headers=headers)
            else:
                response = await http.post(
                    "/mcp",
                    json=initialize,
                    headers={**headers, "Accept": "application/json, text/event-stream"},
                )
        assert response.status_code == 401, (headers, response.status_code)
    refused: Exception | None = None
    try:  # the SDK client cannot even connect with a wrong token
        with anyio.fail_after(30):
            async with server.connect(None, token="wrong-token") as client:
                await client.call_tool("create_room", {"room_id": "room-should-not-exist"})
    except Exception as exc:  # the SDK wraps the 401 differently per transport (error or group)
        refused = exc
    assert refused is not None
    assert not isinstance(refused, TimeoutError)  # refused at once (the raw 401 is checked above)

    records = await _audit(server)
    # The only call ever audited is the supervisor's own query (audited once it has finished).
    assert records == []
    async with session(server, "supervisor") as supervisor:
        assert "room-should-not-exist" in await call_error(
            supervisor, "get_conversation_state", room_id="room-should-not-exist"
        )


async def test_two_agents_with_different_policies_see_different_things(server: RunningServer) -> None:
    async with session(server, "billing") as billing:
        billing_room = await call(billing, "create_room", room_id="room-refund-1", namespace="rooms-billing")
        await call(
            billing,
            "store_event",
            room_id="room-refund-1",
            content="zqcardx card ending 4242 refunded",
            sensitivity="confidential",
        )
        await call(
            billing,
            "remember",
            content="zqpolicyx refunds over 500 need approval",
            namespace="shared-billing",
        )
        shared = await call(
            billing,
            "remember",
            content="zqshared customer prefers email",
            namespace="shared-customer-context",
        )
        denied_room = await call_error(billing, "create_room", namespace="rooms-technical")
    assert billing_room["namespace"] == "rooms-billing"
    assert "PermissionDenied" in denied_room

    async with session(server, "technical") as technical:
        tech_room = await call(technical, "create_room", room_id="room-outage-1", namespace="rooms-technical")
        await call(technical, "store_event", room_id="room-outage-1", content="zqcardx router rebooted")
        missing = await call_error(technical, "list_events", room_id="room-refund-1")
        found = await call(technical, "search_memory", query="zqcardx", include_events=True)
        policy = await call(technical, "search_memory", query="zqpolicyx")
        visible = await call(technical, "search_memory", query="zqshared")
        with pytest.raises(MCPError):
            await technical.read_resource("memory://rooms/room-refund-1/events")
        write_denied = await call_error(technical, "store_event", room_id="room-refund-1", content="hi")
        audit_denied = await call_error(technical, "query_audit_log")
    assert tech_room["namespace"] == "rooms-technical"
    assert "NotFound" in missing
    assert [r["room_id"] for r in found["results"]] == ["room-outage-1"]
    assert policy["results"] == []
    assert [r["id"] for r in visible["results"]] == [shared["memory_id"]]
    assert "NotFound" in write_denied
    assert "PermissionDenied" in audit_denied

    async with session(server, "triage") as triage:  # reads every room, but only up to internal
        page = await call(triage, "list_events", room_id="room-refund-1")
        found_by_triage = await call(triage, "search_memory", query="zqcardx", include_events=True)
        append_denied = await call_error(triage, "store_event", room_id="room-refund-1", content="x")
    assert page["events"] == []  # the confidential event is above triage's clearance
    assert [r["room_id"] for r in found_by_triage["results"]] == ["room-outage-1"]
    assert "PermissionDenied" in append_denied  # readable room, not writable

    async with session(server, "billing") as billing:
        own = await call(billing, "list_events", room_id="room-refund-1")
        hidden = await call_error(billing, "get_conversation_state", room_id="room-outage-1")
    assert [e["content"] for e in own["events"]] == ["zqcardx card ending 4242 refunded"]
    assert "NotFound" in hidden

    records = await _audit(server)
    by_agent = {(r["agent"], r["name"], r["outcome"]) for r in records}
    assert ("billing", "create_room", "ok") in by_agent
    assert ("technical", "list_events", "error") in by_agent
    assert ("triage", "store_event", "error") in by_agent
    assert any(r["kind"] == "resource" and r["agent"] == "technical" for r in records)
    # Confidential content is sealed in the tenant's database file.
    raw = b"".join(p.read_bytes() for p in server.data_dir.glob("memory.db*"))
    # "4242" as a text or a token of its own: inside longer runs it is only chance (the microseconds of ISO
    # timestamps, hex ids hold "4242" in ~3% of runs), which is no leak of the confidential event.
    assert b"card ending 4242" not in raw
    assert re.search(rb"(?<![0-9A-Za-z])4242(?![0-9A-Za-z])", raw) is None
    assert b"zqpolicyx" in raw
