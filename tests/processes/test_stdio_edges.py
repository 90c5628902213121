"""``mcp-memory serve`` over stdio at its edges (issue 14, finding 7): SIGINT and SIGTERM end it with
status 0 after the call in progress committed and was answered; a malformed line gets a JSON-RPC parse
error, never silence. A real subprocess spoken to in raw JSON lines (the SDK client cannot send them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from mcp_memory.config import load_settings
from mcp_memory.services import open_service
from tests.processes.driver import ROOT

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WAIT_SECONDS = 30


class StdioPeer:
    """A raw JSON-RPC peer of one ``mcp-memory serve`` process."""

    def __init__(self, process: Process) -> None:
        self.process = process
        assert process.stdout is not None
        self._out = BufferedByteReceiveStream(process.stdout)

    async def send_line(self, line: str) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send(line.encode("utf-8") + b"\n")

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_line(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        with anyio.fail_after(WAIT_SECONDS):
            line = await self._out.receive_until(b"\n", 16 * 1024 * 1024)
        reply = json.loads(line)
        assert isinstance(reply, dict)
        return reply

    async def initialize(self) -> None:
        await self.send(
            {
                "jsonrpc": "2.0",
                "id": "init",
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            }
        )
        assert "result" in await self.receive()
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call(self, request_id: int, tool: str, **arguments: Any) -> dict[str, Any]:
        await self.send(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments},
            }
        )
        reply = await self.receive()
        assert reply["id"] == request_id, reply
        return reply

    async def exit_status(self) -> int:
        with anyio.fail_after(WAIT_SECONDS):
            return await self.process.wait()


@asynccontextmanager
async def stdio_server(config: Path, agent: str = "triage") -> AsyncIterator[StdioPeer]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_MEMORY_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "mcp_memory", "serve", "--config", str(config), "--agent", agent]
    process = await anyio.open_process(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        yield StdioPeer(process)
    finally:
        if process.returncode is None:
            process.kill()
            with anyio.fail_after(WAIT_SECONDS):
                await process.wait()


async def test_malformed_lines_get_a_parse_error_and_the_session_goes_on(team_config: Path) -> None:
    async with stdio_server(team_config) as server:
        await server.send_line('{"jsonrpc":"2.0","id":7,"method":"ping","params":{"x":"\\ud800"}}')
        surrogate = await server.receive()
        await server.send_line(
            '{"jsonrpc":"2.0","id":8,"method":"ping","params":' + "[" * 200 + "]" * 200 + "}"
        )
        nested = await server.receive()
        await server.send_line("not json at all")
        garbage = await server.receive()
        await server.initialize()
        room = await server.call(1, "create_room", name="after the noise")
        assert not room["result"].get("isError"), room
        await server.process.stdin.aclose()  # type: ignore[union-attr]
        assert await server.exit_status() == 0
    assert (surrogate["id"], surrogate["error"]["code"]) == (7, -32700)
    assert (nested["id"], nested["error"]["code"]) == (8, -32700)
    assert (garbage["id"], garbage["error"]["code"]) == (None, -32700)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_a_signal_ends_an_idle_stdio_server_with_status_0(team_config: Path, signum: int) -> None:
    async with stdio_server(team_config) as server:
        await server.initialize()
        room = await server.call(1, "create_room", name="before the signal")
        server.process.send_signal(signum)
        assert await server.exit_status() == 0
    room_id = room["result"]["structuredContent"]["room_id"]
    async with open_service(load_settings(team_config)) as service:
        assert (await service.store.get_room(room_id)).name == "before the signal"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_write_in_flight_at_a_signal_commits_and_is_answered(team_config: Path, signum: int) -> None:
    settings = load_settings(team_config)
    async with stdio_server(team_config) as server:
        await server.initialize()
        room_id = (await server.call(1, "create_room", name="closing time"))["result"]["structuredContent"][
            "room_id"
        ]
        blocker = await asyncpg.connect(settings.storage_url)
        try:
            lock = blocker.transaction()
            await lock.start()
            await blocker.execute("SELECT 1 FROM rooms WHERE room_id = $1 FOR UPDATE", room_id)
            await server.send(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {
                        "name": "store_event",
                        "arguments": {"room_id": room_id, "content": "last words"},
                    },
                }
            )
            with anyio.fail_after(WAIT_SECONDS):
                # Readiness probe on another process's state: the server's write waits on our row lock.
                while not await blocker.fetchval(  # noqa: ASYNC110
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND application_name = 'mcp-memory'"
                ):
                    await anyio.sleep(0.02)
            server.process.send_signal(signum)
            await lock.commit()
        finally:
            await blocker.close()
        answer = await server.receive()
        assert await server.exit_status() == 0
    assert answer["id"] == 2
    assert answer["result"]["structuredContent"]["event"]["index"] == 1
    async with open_service(settings) as service:
        events = await service.store.list_events(room_id)
    assert [e.content for e in events] == ["last words"]
