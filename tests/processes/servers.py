"""Real ``mcp-memory serve`` processes for tests: HTTP servers on a free loopback port, client helpers.

``http_server(config)`` starts ``mcp-memory serve --transport streamable-http`` (or ``sse``), waits until
``/health`` answers (bounded), yields a ``ServerProcess`` and stops it with SIGTERM at exit (SIGKILL only
if it does not stop within the bound). Agents authenticate with the tokens of ``AGENT_TOKENS``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
from anyio.abc import Process
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.processes.driver import ROOT

#: Bearer tokens of the test agents (given to the server through ``agents.<name>.token_env``).
AGENT_TOKENS = {"triage": "triage-test-token", "billing": "billing-test-token"}

#: Config lines declaring the test agents with their token variables.
AGENTS_TOML = "".join(f'[agents.{name}]\ntoken_env = "{name.upper()}_TOKEN"\n' for name in AGENT_TOKENS)

START_SECONDS = 60
STOP_SECONDS = 30


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env() -> dict[str, str]:
    """Environment of a server process: this checkout first on the path, the agents' tokens."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MCP_MEMORY_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update({f"{name.upper()}_TOKEN": token for name, token in AGENT_TOKENS.items()})
    return env


@dataclass
class ServerProcess:
    """A running server: its process and base URL (``http://127.0.0.1:PORT``)."""

    process: Process
    base_url: str

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def client(self, agent: str, **options: object) -> Client:
        """An SDK client over streamable HTTP authenticated as ``agent``."""
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {AGENT_TOKENS[agent]}"})
        return Client(streamable_http_client(self.mcp_url, http_client=http), **options)  # type: ignore[arg-type]

    def sse_client(self, agent: str, **options: object) -> Client:
        """An SDK client over the legacy SSE transport (``/sse``) authenticated as ``agent``."""
        headers = {"Authorization": f"Bearer {AGENT_TOKENS[agent]}"}
        return Client(sse_client(f"{self.base_url}/sse", headers=headers), **options)  # type: ignore[arg-type]

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)


async def wait_healthy(base_url: str, process: Process) -> None:
    """Poll ``GET /health`` until it answers 200 (readiness probe; bounded by the caller)."""
    async with httpx2.AsyncClient(timeout=2.0) as http:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"server exited with {process.returncode} before it was ready")
            try:
                if (await http.get(f"{base_url}/health")).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            await anyio.sleep(0.05)


@asynccontextmanager
async def http_server(config: Path, *, transport: str = "streamable-http") -> AsyncIterator[ServerProcess]:
    """Run ``mcp-memory serve`` over HTTP on ``config`` until the block exits (then SIGTERM)."""
    port = free_port()
    process = await anyio.open_process(
        [sys.executable, "-m", "mcp_memory", "serve", "--config", str(config)]
        + ["--transport", transport, "--port", str(port)],
        cwd=ROOT,
        env=server_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=None,
    )
    server = ServerProcess(process, f"http://127.0.0.1:{port}")
    try:
        with anyio.fail_after(START_SECONDS):
            await wait_healthy(server.base_url, process)
        yield server
    finally:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                with anyio.move_on_after(STOP_SECONDS):
                    await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
