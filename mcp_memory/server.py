"""Builds the MCP server (tools, resources, prompts, subscriptions, authentication, a lifespan that opens
the store once) and runs it over HTTP with a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import AnyHttpUrl, AnyUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from mcp_memory import __version__
from mcp_memory.auth import ACCESS_SCOPE, Principal, StaticTokenVerifier
from mcp_memory.config import ConfigError, Settings
from mcp_memory.errors import resource_failure, tool_failure
from mcp_memory.lifecycle import GracefulUvicorn, InFlightCalls, health_response
from mcp_memory.operators import operator_routes
from mcp_memory.prompts import register_prompts
from mcp_memory.refusals import RefusedCalls
from mcp_memory.replies import fit_resource, fit_tool_result
from mcp_memory.resources import register_resources, uri_ids
from mcp_memory.sdk_adapter import lifespan_state, sdk_cause, tool_input_schemas
from mcp_memory.services import Service, open_service
from mcp_memory.services.auditing import AuditedCall, CallKind, named_ids
from mcp_memory.subscriptions import (
    ResourceChangeBridge,
    ScopedListenHandler,
    install_legacy_handlers,
    install_listen_handler,
)
from mcp_memory.tool_view import ToolView
from mcp_memory.tools import register_all
from mcp_memory.tools._common import AppState
from storage import StorageError

__all__ = ["INSTRUCTIONS", "ServerParts", "assemble", "build_server", "serve_http"]

logger = logging.getLogger("mcp_memory")
Transport = Literal["stdio", "streamable-http", "sse"]


INSTRUCTIONS = """\
Shared memory for a team of agents (you see the tools your profile allows). Rooms are conversations: store_event
appends to a room's timeline, list_events reads it, get_conversation_state says who handles it, handoff passes it
on. remember keeps knowledge in a namespace (your private agent-<name>, or shared-* for the team); search_memory
finds it by meaning and keywords. Tasks: create_task, claim_task (one winner), update_task (send the version you
read). escalate hands a room to a human with a full handoff package. Facts: get_fact, set_fact (send the version
you read; 0 creates). snapshot_namespace before a risky change; rollback_namespace undoes it. Lists are paged:
follow next_cursor or next_after_index instead of asking for everything."""


class _SharedService:
    """Opens the service on the first session and closes it after the last one.

    While open, one session (the first to find none running) runs background pruning every
    ``pruning.interval_seconds`` when the config has ``[retention]`` rules; it stops with that session.

    Streamable HTTP enters the lifespan once per process, SSE once per session: sharing keeps one
    store pool and one embedder per process either way.
    """

    def __init__(self, settings: Settings, bridge: ResourceChangeBridge) -> None:
        self._settings = settings
        self._bridge = bridge
        self._lock = anyio.Lock()
        self._users = 0
        self._stack: AsyncExitStack | None = None
        self._service: Service | None = None
        self._pruning = False

    @property
    def current(self) -> Service | None:
        """The open service, or ``None`` when no session holds it."""
        return self._service

    @asynccontextmanager
    async def use(self) -> AsyncIterator[Service]:
        async with self._lock:
            if self._service is None:
                stack = AsyncExitStack()
                self._service = await stack.enter_async_context(open_service(self._settings))
                stack.enter_context(self._bridge.attached(self._service))
                self._stack = stack
                logger.info("mcp-memory %s on %s", __version__, await self._service.store.describe())
            self._users += 1
            service = self._service
            interval = self._settings.pruning.interval_seconds
            prunes = interval > 0 and bool(self._settings.retention) and not self._pruning
            self._pruning = self._pruning or prunes
        try:
            if prunes:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(service.retention.run_periodically, interval)
                    try:
                        yield service
                    finally:
                        tasks.cancel_scope.cancel()
            else:
                yield service
        finally:
            if prunes:
                self._pruning = False
            async with self._lock:
                self._users -= 1
                if self._users == 0 and self._stack is not None:
                    stack, self._stack, self._service = self._stack, None, None
                    with anyio.CancelScope(shield=True):
                        await stack.aclose()


class MemoryServer(MCPServer[AppState]):
    """``MCPServer`` with one path for every call: each tool call and resource read is audited once
    (``AuditLog.call``, as the calling agent; the service calls it makes join it), its domain errors
    are mapped once (``mcp_memory.errors``: avoidable -> tool error, outage -> protocol error) and its reply
    is compact JSON within ``limits.max_chars_per_response`` (``mcp_memory.replies``).

    Before a tool runs, the call is admitted: the caller's policy must allow the tool (``ToolView``: the
    tools it lists are exactly those) and every argument must be a declared parameter, free-form JSON
    within the ``[limits]`` caps (``mcp_memory.arguments``).

    A tool call's record names the tool and the ids in its arguments then in its result; a resource
    read's names the URI and the ids in it (the path segments after each collection name:
    ``memory://rooms/r1/events`` touches ``r1``). A call without an authenticated caller is not recorded
    (it never ran as anyone).
    """

    def __init__(self, *args: Any, view: ToolView, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view = view

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool (see ``MCPServer.call_tool``), admitted, audited, with domain errors mapped.

        Raises:
            ToolError: the call failed in a way the model can act on (the message says how).
            MCPError: the store is unavailable (or failed otherwise).
        """
        async with _audited(context, kind="tool", name=name, ids=named_ids(arguments)) as call:
            state = lifespan_state(context)
            limits = state.service.context.settings.limits if isinstance(state, AppState) else None
            try:
                if limits is not None and context is not None:
                    self.view.admit(state.principal_of(), name, arguments, limits)
                result = await super().call_tool(name, arguments, context)
            except (ToolError, StorageError) as exc:
                cause = exc if isinstance(exc, StorageError) else sdk_cause(exc)
                mapped = tool_failure(cause, tool=name)
                if mapped is None:
                    raise
                raise mapped from cause
            if isinstance(result, CallToolResult):
                call.add_result(result.structured_content)
                if limits is not None:
                    result = fit_tool_result(result, limits.max_chars_per_response)
            return result

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[AppState, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        """Read a resource (see ``MCPServer.read_resource``), audited, with domain errors mapped; JSON
        contents fitted to ``limits.max_chars_per_response``.

        Raises:
            ResourceNotFoundError: no such resource, or the item is missing or hidden from the caller.
            MCPError: another avoidable error (invalid params), or the store is unavailable (internal error).
        """
        async with _audited(context, kind="resource", name=str(uri), ids=uri_ids(str(uri))):
            try:
                contents = await super().read_resource(uri, context)
            except ResourceError as exc:
                mapped = resource_failure(sdk_cause(exc), uri=str(uri))
                if mapped is None:
                    raise
                raise mapped from sdk_cause(exc)
            state = lifespan_state(context)
            if isinstance(contents, InputRequiredResult) or not isinstance(state, AppState):
                return contents
            return fit_resource(contents, state.service.context.settings.limits.max_chars_per_response)


@asynccontextmanager
async def _audited(
    context: Context[AppState, Any] | None, *, kind: CallKind, name: str, ids: list[str]
) -> AsyncIterator[AuditedCall]:
    """Audit the block as a call of the request's principal (not at all without an mcp-memory state or
    an authenticated caller)."""
    state = lifespan_state(context)
    principal: Principal | None = None
    if isinstance(state, AppState) and context is not None:
        try:
            principal = state.principal_of()
        except ToolError:
            principal = None  # unauthenticated: the call never runs as anyone
    if principal is None or not isinstance(state, AppState):
        yield AuditedCall(ids)
        return
    async with state.service.context.audit_log.call(principal.agent, kind=kind, name=name, ids=ids) as call:
        yield call


@dataclass
class ServerParts:
    """A built server and what serving it needs: the shared service, in-flight calls, listen streams."""

    server: MCPServer[AppState]
    shared: _SharedService
    in_flight: InFlightCalls
    listen: ScopedListenHandler
    bridge: ResourceChangeBridge
    grace_seconds: float


def build_server(
    settings: Settings, *, agent: str | None = None, transport: Transport = "stdio"
) -> MCPServer[AppState]:
    """Return an ``MCPServer`` for ``settings``.

    Over stdio every call runs as ``agent`` (default: ``server.default_agent``). Over HTTP/SSE callers
    authenticate with a bearer token configured per agent; a missing or wrong token gets HTTP 401.
    ``GET /health`` (HTTP transports, no token) answers 200 when the store answers a query, else 503.

    Raises:
        ConfigError: an HTTP transport is asked for but no agent has a token, or ``agent`` is not a valid
            agent name (``auth.AGENT_NAME_PATTERN``: a name never expands a namespace pattern).
    """
    return assemble(settings, agent=agent, transport=transport).server


async def serve_http(
    settings: Settings,
    *,
    transport: Literal["streamable-http", "sse"],
    on_ready: Callable[[str], object] | None = None,
) -> None:
    """Serve over HTTP on ``server.host:server.port`` until SIGTERM or SIGINT, then shut down gracefully.

    Beside the MCP endpoint: ``GET /health``, the operators' ``/inspect`` pages and ``GET /metrics``
    (``mcp_memory.operators``). ``on_ready`` gets the endpoint's URL (``http://HOST:PORT/mcp``, or
    ``/sse``) once the socket listens.

    Shutdown order: stop accepting connections and end open ``subscriptions/listen`` streams gracefully;
    let open requests finish for up to
    ``server.shutdown_grace_seconds`` (longer-lived streams are then cancelled); tool calls already
    running always finish, their writes committed (``InFlightCalls``); close the store; return.

    Raises:
        ConfigError: no agent has a token, or ``encryption_key`` is not the store's key.
        StorageError: the store cannot be opened.
    """
    parts = assemble(settings, transport=transport)
    host, port = settings.server.host, settings.server.port
    if transport == "sse":
        app = parts.server.sse_app(host=host)
    else:
        app = parts.server.streamable_http_app(host=host)
    _hold_service(app, parts, settings.server.shutdown_grace_seconds)
    app.router.routes.extend(
        operator_routes(
            settings,
            service=lambda: parts.shared.current,
            open_subscriptions=lambda: parts.bridge.open_subscriptions,
            in_flight=lambda: parts.in_flight.running,
        )
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=int(settings.server.shutdown_grace_seconds),
    )
    loop = asyncio.get_running_loop()
    url = f"http://{host}:{port}/{'sse' if transport == 'sse' else 'mcp'}"
    # The service opens before uvicorn starts: a store or key that fails is this function's error (one line
    # from the CLI), not a traceback of the app's lifespan; the lifespan then shares the open service.
    async with parts.shared.use():
        await GracefulUvicorn(
            config,
            on_exit=lambda: loop.call_soon_threadsafe(parts.listen.close),
            on_ready=(lambda: on_ready(url)) if on_ready else None,
        ).serve()
    logger.info("mcp-memory stopped cleanly")


def _hold_service(app: Starlette, parts: ServerParts, grace_seconds: float) -> None:
    """Open the service for the app's whole life (SSE opens one per session otherwise), drain, close."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[Any]:
        async with parts.shared.use():
            async with inner(app) as state:
                yield state
            await parts.in_flight.drain(grace_seconds)

    app.router.lifespan_context = lifespan


def assemble(settings: Settings, *, agent: str | None = None, transport: Transport = "stdio") -> ServerParts:
    bridge = ResourceChangeBridge()
    shared = _SharedService(settings, bridge)
    in_flight = InFlightCalls()
    principal_of = _stdio_principal(settings, agent) if transport == "stdio" else _token_principal(settings)

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        async with shared.use() as service:
            yield AppState(service=service, principal_of=principal_of)

    auth_options: dict[str, Any] = {}
    if transport != "stdio":
        digests = settings.token_digests()
        if not digests:
            raise ConfigError(
                "HTTP/SSE transports need bearer tokens: give agents.<name>.token_env or token_sha256 in the config"
            )
        base = f"http://{settings.server.host}:{settings.server.port}"
        auth_options = {
            "token_verifier": StaticTokenVerifier(digests),
            "auth": AuthSettings(
                issuer_url=AnyHttpUrl(base), resource_server_url=None, required_scopes=[ACCESS_SCOPE]
            ),
        }

    view = ToolView()
    server = MemoryServer(
        name="mcp-memory",
        title="mcp-memory",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
        subscriptions=bridge,
        middleware=[RefusedCalls(), in_flight, view],
        view=view,
        **auth_options,
    )
    view.add_tools(register_all(server), tool_input_schemas(server))
    register_resources(server)
    register_prompts(server)
    install_legacy_handlers(server, bridge)
    listen = install_listen_handler(server, bridge)

    @server.custom_route("/health", methods=["GET"])  # type: ignore[untyped-decorator]
    async def health(_: Request) -> Response:
        return await health_response(shared.current, in_flight)

    return ServerParts(
        server=server,
        shared=shared,
        in_flight=in_flight,
        listen=listen,
        bridge=bridge,
        grace_seconds=settings.server.shutdown_grace_seconds,
    )


def _stdio_principal(settings: Settings, agent: str | None) -> Any:
    name = agent if agent is not None else settings.server.default_agent
    try:
        principal = Principal(agent=name, policy=settings.policy_for(name))
    except ValueError as exc:
        raise ConfigError(f"--agent: {exc}") from None

    def principal_of() -> Principal:
        return principal

    return principal_of


def _token_principal(settings: Settings) -> Any:
    def principal_of() -> Principal:
        token = get_access_token()
        if token is None:  # the auth middleware already refused the request; never reached in practice
            raise ToolError("not authenticated: send 'Authorization: Bearer <token>'")
        return Principal(agent=token.client_id, policy=settings.policy_for(token.client_id))

    return principal_of
