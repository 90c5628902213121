"""Resource subscriptions: the service's change bus delivered to MCP clients, under the read rules.

Two wire forms, both served, both authorized the same way (``mcp_memory.watches``): a subscription is
refused when the caller's policy refuses a read of the URI, audited as ``subscribe <uri>``, and a
notification is sent only when what the subscriber can read at the URI changed.

- ``subscriptions/listen`` (protocol 2026-07-28): ``ScopedListenHandler`` replaces the SDK's
  ``ListenHandler`` (same wire behaviour: ack first, frames tagged with the subscription id, graceful
  ``close``), checking each requested URI before the ack and each change before it is sent.
- ``resources/subscribe`` / ``resources/unsubscribe`` (2024-11-05 .. 2025-11-25, what most clients send
  today): ``MCPServer`` has no public hook, so ``install_legacy_handlers`` registers them on its low-level
  server (through ``sdk_adapter``); the bridge remembers each connection's watches and sends
  ``notifications/resources/updated`` on the connection's standalone channel (stdio; the GET stream of
  streamable HTTP; the SSE stream).

The bridge is attached to the service's ``ChangeBus`` for the service's lifetime; every URI published
there (by this process's writes, or by other processes through the store's change feed) reaches both.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectSendStream
from mcp import types
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import (
    SUBSCRIPTION_ID_META_KEY,
    ResourceUpdated,
    ServerEvent,
    event_matches,
    event_to_notification,
)
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST

from mcp_memory.auth import Principal
from mcp_memory.errors import resource_failure
from mcp_memory.sdk_adapter import add_request_handler, connection_of
from mcp_memory.services import Service
from mcp_memory.tools._common import AppState
from mcp_memory.watches import Watch, audit_subscription
from storage import RESYNC_TOPIC, StorageError

__all__ = [
    "ResourceChangeBridge",
    "ScopedListenHandler",
    "install_legacy_handlers",
    "install_listen_handler",
]

logger = logging.getLogger("mcp_memory.subscriptions")

#: Most URIs one legacy session (or one listen stream) may subscribe to (bounds server memory per client).
MAX_URIS_PER_SESSION = 1000


class ResourceChangeBridge:
    """The SDK ``SubscriptionBus`` of the server, fed by the service's ``ChangeBus``."""

    def __init__(self) -> None:
        self._listeners: dict[object, Callable[[ServerEvent], None]] = {}
        self._service: Service | None = None
        # Keyed weakly by connection: a closed client's subscriptions go with it.
        self._legacy: weakref.WeakKeyDictionary[Connection, dict[str, Watch]] = weakref.WeakKeyDictionary()
        self._sending: set[asyncio.Task[None]] = set()

    @property
    def service(self) -> Service | None:
        """The service whose changes are delivered (``None`` when not attached)."""
        return self._service

    # --- SubscriptionBus (listen streams and ctx.notify_resource_updated) ------------------------------

    async def publish(self, event: ServerEvent) -> None:
        """Publish an SDK event; a resource update goes through the change bus (and so to other processes)."""
        if isinstance(event, ResourceUpdated) and self._service is not None:
            await self._service.changes.publish(event.uri)
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
    def attached(self, service: Service) -> Iterator[None]:
        """Deliver the URIs published on ``service.changes`` to subscribed clients while the block runs."""
        unsubscribe = service.changes.subscribe(self._on_change)
        self._service = service
        try:
            yield
        finally:
            unsubscribe()
            self._service = None

    # --- legacy resources/subscribe --------------------------------------------------------------------

    def subscribe_connection(self, connection: Connection, watch: Watch) -> None:
        """Keep ``watch`` for ``connection`` (until it unsubscribes or closes).

        Raises:
            ValueError: the connection already has ``MAX_URIS_PER_SESSION`` subscriptions.
        """
        watches = self._legacy.setdefault(connection, {})
        if watch.uri not in watches and len(watches) >= MAX_URIS_PER_SESSION:
            raise ValueError(f"at most {MAX_URIS_PER_SESSION} resource subscriptions per session")
        watches[watch.uri] = watch

    def unsubscribe_connection(self, connection: Connection, uri: str) -> None:
        """Forget ``uri`` for ``connection`` (no error when it was not subscribed)."""
        watches = self._legacy.get(connection)
        if watches is not None:
            watches.pop(uri, None)

    # --- delivery --------------------------------------------------------------------------------------

    def _on_change(self, uri: str) -> None:
        # RESYNC_TOPIC: changes from other processes may have been lost (the feed was interrupted, or a
        # datagram dropped); every watch re-reads its URI and only those whose subscriber's view changed
        # are notified.
        if uri == RESYNC_TOPIC:
            logger.warning("change notifications from other processes may be lost: subscribers re-read")
        self._fan_out(ResourceUpdated(uri=uri))
        for connection, watches in list(self._legacy.items()):
            for watch in watches.values() if uri == RESYNC_TOPIC else filter(None, [watches.get(uri)]):
                self._send_later(connection, watch)

    def _fan_out(self, event: ServerEvent) -> None:
        for listener in list(self._listeners.values()):
            try:
                listener(event)
            except Exception:  # fan-out boundary: one stream must not starve the others
                logger.exception("subscription listener raised; continuing")

    def _send_later(self, connection: Connection, watch: Watch) -> None:
        # Listeners are synchronous (SDK contract); the check and the write are async, so they run as their
        # own task. The server always runs on asyncio (stdio, uvicorn).
        task = asyncio.get_running_loop().create_task(self._send(connection, watch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, connection: Connection, watch: Watch) -> None:
        service = self._service
        if service is None or not await watch.changed(service):
            return
        try:
            await connection.send_resource_updated(watch.uri)
        except Exception as exc:  # the connection ended: forget its subscriptions
            logger.debug("dropping legacy subscriptions of a closed connection: %r", exc)
            self._legacy.pop(connection, None)


def _caller(ctx: ServerRequestContext[Any, Any]) -> tuple[Service, Principal]:
    state = ctx.lifespan_context
    if not isinstance(state, AppState):
        raise MCPError(INTERNAL_ERROR, "the server is not started")
    return state.service, state.principal_of()


async def _start_watch(service: Service, principal: Principal, uri: str) -> Watch:
    """Check and audit one subscription; a refusal is the error a read of ``uri`` would get.

    Raises:
        MCPError: the caller's policy refuses reading ``uri`` (invalid params), or the store failed.
    """
    try:
        async with audit_subscription(service, principal, uri):
            return await Watch.start(service, principal, uri)
    except StorageError as exc:
        mapped = resource_failure(exc, uri=uri)
        raise (mapped or exc) from None


class ScopedListenHandler:
    """Serves ``subscriptions/listen`` like the SDK's ``ListenHandler`` (``mcp/server/subscriptions.py``),
    with each URI checked before the ack and each change checked before it is sent (``watches``)."""

    def __init__(
        self, bridge: ResourceChangeBridge, *, max_streams: int = 1024, max_buffered: int = 1024
    ) -> None:
        self._bridge = bridge
        self._max_streams = max_streams
        self._max_buffered = max_buffered
        self._streams: set[MemoryObjectSendStream[ServerEvent]] = set()

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """Serve one listen stream (see the SDK's ``ListenHandler.__call__``)."""
        subscription_id = ctx.request_id
        if subscription_id is None:
            raise MCPError(INVALID_REQUEST, "subscriptions/listen requires a request id")
        if len(self._streams) >= self._max_streams:
            raise MCPError(INTERNAL_ERROR, "Subscription limit reached")
        requested = params.notifications
        uris = list(dict.fromkeys(requested.resource_subscriptions or ()))
        if len(uris) > MAX_URIS_PER_SESSION:
            raise MCPError(
                INVALID_PARAMS, f"at most {MAX_URIS_PER_SESSION} resource subscriptions per stream"
            )
        watches: dict[str, Watch] = {}
        if uris:
            service, principal = _caller(ctx)
            for uri in uris:
                watches[uri] = await _start_watch(service, principal, uri)
        honored = types.SubscriptionFilter(
            tools_list_changed=True if requested.tools_list_changed else None,
            prompts_list_changed=True if requested.prompts_list_changed else None,
            resources_list_changed=True if requested.resources_list_changed else None,
            resource_subscriptions=uris or None,
        )
        meta: dict[str, Any] = {SUBSCRIPTION_ID_META_KEY: subscription_id}
        send, recv = anyio.create_memory_object_stream[ServerEvent](self._max_buffered)

        def deliver(event: ServerEvent) -> None:
            if isinstance(event, ResourceUpdated) and event.uri == RESYNC_TOPIC:
                for uri in uris:  # the feed was interrupted: re-check every URI of this stream
                    deliver(ResourceUpdated(uri=uri))
                return
            if not event_matches(honored, frozenset(uris), event):
                return
            try:
                send.send_nowait(event)
            except anyio.ClosedResourceError:
                pass
            except anyio.WouldBlock:
                logger.warning("listen stream %r backlog full; ending the stream", subscription_id)
                self._streams.discard(send)
                send.close()

        unsubscribe = self._bridge.subscribe(deliver)
        self._streams.add(send)
        try:
            await ctx.session.send_notification(
                types.SubscriptionsAcknowledgedNotification(
                    params=types.SubscriptionsAcknowledgedNotificationParams(
                        notifications=honored, _meta=meta
                    )
                ),
                related_request_id=subscription_id,
            )
            async for event in recv:
                if isinstance(event, ResourceUpdated):
                    current = self._bridge.service
                    if current is None or not await watches[event.uri].changed(current):
                        continue
                await ctx.session.send_notification(
                    event_to_notification(event, meta), related_request_id=subscription_id
                )
        finally:
            unsubscribe()
            self._streams.discard(send)
            send.close()
            recv.close()
        return types.SubscriptionsListenResult(_meta=meta)

    def close(self) -> None:
        """End every open listen stream gracefully (each sends its final result frame)."""
        for stream in list(self._streams):
            stream.close()


def install_listen_handler(server: MCPServer[Any], bridge: ResourceChangeBridge) -> ScopedListenHandler:
    """Serve ``subscriptions/listen`` with a ``ScopedListenHandler`` the caller keeps (to ``close()`` it).

    ``MCPServer(subscriptions=bridge)`` registers the SDK's own handler but does not expose it; replacing it
    authorizes subscriptions and lets a shutdown end every open listen stream gracefully.
    """
    handler = ScopedListenHandler(bridge)
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
        service, principal = _caller(ctx)
        watch = await _start_watch(service, principal, str(params.uri))
        try:
            bridge.subscribe_connection(connection_of(ctx), watch)
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
