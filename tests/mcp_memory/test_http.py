"""Proof over real HTTP: the shipped support-team config served on 127.0.0.1, real SDK clients.

Each test starts ``mcp-memory serve --config configs/support-team.toml --transport <t>`` in a subprocess on
a free port (tokens and the encryption key in its environment, lexical search), then connects with the
SDK's streamable-HTTP client and its SSE client. Two agents with different policies see different things;
a missing or wrong token gets HTTP 401 and nothing runs (nothing reaches the audit log).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from mcp_memory.crypto import ContentCipher
from tests.mcp_memory.test_tools import call, call_error

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "support-team.toml"
#: Bound on the server process start (imports, migrations); generous for a loaded CI machine.
STARTUP_SECONDS = 120
TOKENS = {
    agent: f"token-{agent}-{os.urandom(8).hex()}"
    for agent in ("triage", "technical", "billing", "supervisor")
}


@dataclass
class RunningServer:
    transport: str
    base: str
    data_dir: Path

    def connect(self, agent: str | None, token: str | None = None) -> Client:
        """A client of the SDK for this transport, sending ``agent``'s token (or ``token``)."""
        bearer = token if token is not None else (TOKENS[agent] if agent else None)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        if self.transport == "sse":
            return Client(sse_client(f"{self.base}/sse", headers=headers))
        return Client(
            streamable_http_client(f"{self.base}/mcp", http_client=httpx2.AsyncClient(headers=headers))
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["streamable-http", "sse"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    port = _free_port()
    env = {
        **os.environ,
        **{f"MCP_MEMORY_TOKEN_{agent.upper()}": token for agent, token in TOKENS.items()},
        "MCP_MEMORY_ENCRYPTION_KEY": ContentCipher.generate_key(),
        "MCP_MEMORY_DATA_DIR": str(tmp_path / "support"),
        "MCP_MEMORY_EMBEDDER__PROVIDER": "none",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "mcp_memory", "serve", "--config", str(CONFIG)]
    cmd += ["--transport", request.param, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        with httpx2.Client() as http:
            while True:
                if proc.poll() is not None:
                    stderr = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(f"server exited: {stderr}")
                try:
                    if http.get(f"{base}/health", timeout=2.0).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"server did not answer /health within {STARTUP_SECONDS} s")
                time.sleep(0.1)
        yield RunningServer(request.param, base, tmp_path / "support")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


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
    async with httpx2.AsyncClient(timeout=10) as http:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Basic {TOKENS['billing']}"},
        ):
            if server.transport == "sse":
                response = await http.get(f"{server.base}/sse", headers=headers)
            else:
                response = await http.post(
                    f"{server.base}/mcp",
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
