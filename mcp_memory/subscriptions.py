"""Resource subscriptions: the service's change bus delivered to MCP clients.

Two wire forms, both served:

- ``subscriptions/listen`` (protocol 2026-07-28): ``MCPServer(subscriptions=bridge)`` takes
  ``ResourceChangeBridge`` as its ``SubscriptionBus``; the SDK's listen handler filters by the URIs each
  stream asked for and sends ``notifications/resources/updated``.
- ``resources/subscribe`` / ``resources/unsubscribe`` (2024-11-05 .. 2025-11-25, what most clients send
  today): ``MCPServer`` has no public hook, so ``install_legacy_handlers`` registers them on its low-level
  server (through ``sdk_adapter``); the bridge remembers each connection's URIs and sends ``notifications/resources/updated`` on
  the connection's standalone channel (stdio; the GET stream of streamable HTTP; the SSE stream).

The bridge is attached to the service's ``ChangeBus`` for the service's lifetime; every URI published
there (by this process's writes, or by other processes through the store's change feed) reaches both.
Subscribing needs no read permission: a notification carries only the URI the client named, and reading
the resource afterwards runs in the caller's scope.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio.lowlevel
from mcp import types
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated, ServerEvent
from mcp_types import INVALID_PARAMS

from mcp_memory.sdk_adapter import add_request_handler, connection_of
from mcp_memory.services.changes import ChangeBus
from storage.contracts import RESYNC_TOPIC

__all__ = ["ResourceChangeBridge", "install_legacy_handlers", "install_listen_handler"]

logger = logging.getLogger("mcp_memory.subscriptions")

#: Most URIs one legacy session may subscribe to (bounds server memory per client).
MAX_URIS_PER_SESSION = 1000


class ResourceChangeBridge:
    """The SDK ``SubscriptionBus`` of the server, fed by the service's ``ChangeBus``."""

    def __init__(self) -> None:
        self._listeners: dict[object, Callable[[ServerEvent], None]] = {}
        self._changes: ChangeBus | None = None
        # Keyed weakly by connection: a closed client's subscriptions go with it.
        self._legacy: weakref.WeakKeyDictionary[Connection, set[str]] = weakref.WeakKeyDictionary()
        self._sending: set[asyncio.Task[None]] = set()
        #: Set by ``install_listen_handler``: ending its streams tells listen clients to re-read.
        self.listen_handler: ListenHandler | None = None

    # --- SubscriptionBus (the SDK's listen handler and ctx.notify_resource_updated) ---------------------

    async def publish(self, event: ServerEvent) -> None:
        """Publish an SDK event; a resource update goes through the change bus (and so to other processes)."""
        if isinstance(event, ResourceUpdated) and self._changes is not None:
            await self._changes.publish(event.uri)
        else:
            self._fan_out(event)
        await anyio.lowlevel.checkpoint()

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        """Register a listen stream's listener; returns an idempotent unsubscribe."""
        token = object()
        self._listeners[token] = listener

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    @property
    def open_subscriptions(self) -> int:
        """Open ``subscriptions/listen`` streams plus legacy ``resources/subscribe`` URIs of live sessions."""
        return len(self._listeners) + sum(len(uris) for uris in list(self._legacy.values()))

    # --- wiring to the service -----------------------------------------------------------------------

    @contextmanager
    def attached(self, changes: ChangeBus) -> Iterator[None]:
        """Deliver the URIs published on ``changes`` to subscribed clients while the block runs."""
        unsubscribe = changes.subscribe(self._on_change)
        self._changes = changes
        try:
            yield
        finally:
            unsubscribe()
            self._changes = None

    # --- legacy resources/subscribe --------------------------------------------------------------------

    def subscribe_connection(self, connection: Connection, uri: str) -> None:
        """Remember that ``connection`` wants updates of ``uri`` (until it unsubscribes or closes).

        Raises:
            ValueError: the connection already has ``MAX_URIS_PER_SESSION`` subscriptions.
        """
        uris = self._legacy.setdefault(connection, set())
        if uri not in uris and len(uris) >= MAX_URIS_PER_SESSION:
            raise ValueError(f"at most {MAX_URIS_PER_SESSION} resource subscriptions per session")
        uris.add(uri)

    def unsubscribe_connection(self, connection: Connection, uri: str) -> None:
        """Forget ``uri`` for ``connection`` (no error when it was not subscribed)."""
        uris = self._legacy.get(connection)
        if uris is not None:
            uris.discard(uri)

    # --- delivery --------------------------------------------------------------------------------------

    def _on_change(self, uri: str) -> None:
        if uri == RESYNC_TOPIC:
            self._resync()
            return
        self._fan_out(ResourceUpdated(uri=uri))
        for connection, uris in list(self._legacy.items()):
            if uri in uris:
                self._send_later(connection, uri)

    def _resync(self) -> None:
        """Changes from other processes were lost (``RESYNC_TOPIC``): every subscriber must re-read.

        Legacy subscribers get an update for each URI they follow; ``subscriptions/listen`` streams are
        ended gracefully, which the protocol defines as "re-listen and refetch" (the SDK's ListenHandler).
        """
        logger.warning("change notifications from other processes were lost: telling subscribers to re-read")
        for connection, uris in list(self._legacy.items()):
            for followed in list(uris):
                self._send_later(connection, followed)
        if self.listen_handler is not None:
            self.listen_handler.close()

    def _fan_out(self, event: ServerEvent) -> None:
        for listener in list(self._listeners.values()):
            try:
                listener(event)
            except Exception:  # fan-out boundary: one stream must not starve the others
                logger.exception("subscription listener raised; continuing")

    def _send_later(self, connection: Connection, uri: str) -> None:
        # Listeners are synchronous (SDK contract); the write to the session is async, so it runs as its
        # own task. The server always runs on asyncio (stdio, uvicorn).
        task = asyncio.get_running_loop().create_task(self._send(connection, uri))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, connection: Connection, uri: str) -> None:
        try:
            await connection.send_resource_updated(uri)
        except Exception as exc:  # the connection ended: forget its subscriptions
            logger.debug("dropping legacy subscriptions of a closed connection: %r", exc)
            self._legacy.pop(connection, None)


def install_listen_handler(server: MCPServer[Any], bridge: ResourceChangeBridge) -> ListenHandler:
    """Serve ``subscriptions/listen`` with a ``ListenHandler`` the caller keeps (to ``close()`` it).

    ``MCPServer(subscriptions=bridge)`` registers its own instance but does not expose it; replacing it
    with this one lets a shutdown end every open listen stream gracefully (the client's loop ends)
    instead of cutting it after the grace period.
    """
    handler = ListenHandler(bridge)
    bridge.listen_handler = handler
    add_request_handler(server, "subscriptions/listen", types.SubscriptionsListenRequestParams, handler)
    return handler


def install_legacy_handlers(server: MCPServer[Any], bridge: ResourceChangeBridge) -> None:
    """Serve ``resources/subscribe`` and ``resources/unsubscribe`` for handshake-era clients.

    Registered on the low-level server (``MCPServer`` has no public hook for them; see ``sdk_adapter``);
    the server then advertises ``resources.subscribe`` to those clients. The request's ``ServerSession``
    lives only as long as the request, so subscriptions are kept on its connection
    (``sdk_adapter.connection_of``).
    """

    async def on_subscribe(
        ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        try:
            bridge.subscribe_connection(connection_of(ctx), str(params.uri))
        except ValueError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from None
        return types.EmptyResult()

    async def on_unsubscribe(
        ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        bridge.unsubscribe_connection(connection_of(ctx), str(params.uri))
        return types.EmptyResult()

    add_request_handler(server, "resources/subscribe", types.SubscribeRequestParams, on_subscribe)
    add_request_handler(server, "resources/unsubscribe", types.UnsubscribeRequestParams, on_unsubscribe)
