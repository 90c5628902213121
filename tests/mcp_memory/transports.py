"""Connect SDK clients to the real server over each transport, in process: no subprocess, no port.

The pattern of the MCP SDK's own interaction suite (``tests/interaction/_connect.py``): ``in-memory`` is
``Client(server)``; ``streamable-http`` and ``sse`` drive the server's real Starlette app (the one
``mcp-memory serve`` hands to uvicorn: bearer-token auth, ``/health``, session management, SSE encoding)
through ``StreamingASGITransport``, so the whole HTTP layer runs on the test's event loop.

Over stdio and in memory a server runs as one agent; over HTTP the caller is the agent whose bearer token
it sends. ``with_tokens`` gives every agent a test token (``token_of``) so one settings object serves all
three transports.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Literal, Protocol

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette

from mcp_memory.config import AgentConfig, Settings
from mcp_memory.server import build_server
from tests.asgi_bridge import StreamingASGITransport

__all__ = [
    "BASE_URL",
    "TRANSPORTS",
    "Connect",
    "MountedApp",
    "connect_over",
    "mounted_app",
    "token_of",
    "with_tokens",
]

HttpTransport = Literal["streamable-http", "sse"]

#: The transports every tool test runs over.
TRANSPORTS = ("in-memory", "streamable-http", "sse")

#: The in-process app is addressed at this origin so URLs are well formed; nothing listens there.
BASE_URL = "http://127.0.0.1:8000"


def token_of(agent: str) -> str:
    """The bearer token of ``agent`` in tests."""
    return f"test-token-of-{agent}"


def with_tokens(settings: Settings, agents: Iterable[str] = ()) -> Settings:
    """``settings`` where every configured agent and every one of ``agents`` has the token ``token_of``.

    An agent not configured gets the default policy, as it would without a token (``policy_for``).
    Tokens already configured (``token_env``, ``token_sha256``) are replaced.
    """
    configured = dict(settings.agents)
    for name in sorted(set(configured) | set(agents)):
        base = configured.get(name) or AgentConfig(**settings.default_policy.model_dump())
        digest = hashlib.sha256(token_of(name).encode()).hexdigest()
        configured[name] = base.model_copy(update={"token_env": None, "token_sha256": digest})
    return settings.model_copy(update={"agents": configured})


class MountedApp:
    """A server's HTTP app mounted in process: raw HTTP requests and SDK clients for any token."""

    def __init__(self, app: Starlette, transport: HttpTransport, http: httpx2.AsyncClient) -> None:
        self.app = app
        self.transport = transport
        #: Raw HTTP to the app (no token): for status codes and ``/health``.
        self.http = http

    def _http_client(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        # The SSE server transport runs the whole session inside the GET request and releases its streams
        # only once that request sees the disconnect: let the app drain instead of cancelling it.
        bridge = StreamingASGITransport(self.app, cancel_on_close=self.transport != "sse")
        return httpx2.AsyncClient(
            transport=bridge, base_url=BASE_URL, headers=headers, timeout=timeout, auth=auth
        )

    @asynccontextmanager
    async def client(self, agent: str | None = None, *, token: str | None = None) -> AsyncIterator[Client]:
        """An SDK client sending ``agent``'s token (``token_of``), or ``token``, or no token."""
        bearer = token if token is not None else (token_of(agent) if agent else None)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        if self.transport == "sse":
            transport = sse_client(f"{BASE_URL}/sse", headers=headers, httpx_client_factory=self._http_client)
            async with Client(transport) as connected:
                yield connected
            return
        async with (
            self._http_client(headers=headers) as http,
            Client(streamable_http_client(f"{BASE_URL}/mcp", http_client=http)) as connected,
        ):
            yield connected


@asynccontextmanager
async def mounted_app(settings: Settings, transport: HttpTransport) -> AsyncIterator[MountedApp]:
    """Build the server for ``transport`` (its agents need tokens) and run its app's lifespan.

    Raises:
        ConfigError: no agent of ``settings`` has a token.
    """
    server = build_server(settings, transport=transport)
    host = settings.server.host
    app = server.sse_app(host=host) if transport == "sse" else server.streamable_http_app(host=host)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(
            httpx2.AsyncClient(transport=StreamingASGITransport(app), base_url=BASE_URL)
        )
        yield MountedApp(app, transport, http)


class Connect(Protocol):
    """Connect an SDK client as ``agent`` to a server built from ``settings``, over one transport."""

    transport: str

    def __call__(self, settings: Settings, agent: str = "triage") -> AbstractAsyncContextManager[Client]: ...

    def team(
        self, settings: Settings, agents: Iterable[str]
    ) -> AbstractAsyncContextManager[dict[str, Client]]: ...


class connect_over:  # noqa: N801  (used like a function)
    """The ``Connect`` of one transport (see ``TRANSPORTS``).

    Every call builds its own server on ``settings``, like separate processes on one database.
    """

    def __init__(self, transport: str) -> None:
        assert transport in TRANSPORTS, transport
        self.transport = transport

    def __repr__(self) -> str:
        return f"connect_over({self.transport!r})"

    @asynccontextmanager
    async def __call__(self, settings: Settings, agent: str = "triage") -> AsyncIterator[Client]:
        if self.transport == "in-memory":
            async with Client(build_server(settings, agent=agent)) as client:
                yield client
            return
        async with (
            mounted_app(with_tokens(settings, [agent]), self._http_transport) as mounted,
            mounted.client(agent) as client,
        ):
            yield client

    @property
    def _http_transport(self) -> HttpTransport:
        return "sse" if self.transport == "sse" else "streamable-http"

    @asynccontextmanager
    async def team(self, settings: Settings, agents: Iterable[str]) -> AsyncIterator[dict[str, Client]]:
        """One client per agent: one server each in memory (one agent per server, as over stdio), or one
        HTTP app for the whole team with one token per agent (as a deployment serves it)."""
        names = list(agents)
        async with AsyncExitStack() as stack:
            if self.transport == "in-memory":
                clients = {name: await stack.enter_async_context(self(settings, name)) for name in names}
            else:
                mounted = await stack.enter_async_context(
                    mounted_app(with_tokens(settings, names), self._http_transport)
                )
                clients = {name: await stack.enter_async_context(mounted.client(name)) for name in names}
            yield clients
