"""Graceful shutdown: tool calls in progress finish (their writes commit) before the store closes.

``InFlightCalls`` is a server middleware (``MCPServer.middleware``) around every ``tools/call``: it counts
calls in progress and shields each from cancellation, so a write that started is never cut short by a
shutdown or a client that went away (a write is one transaction: it commits whole or not at all, and
shielding makes it commit). On shutdown the server first stops taking connections (uvicorn, on SIGTERM
or SIGINT, ``GracefulUvicorn``), then ``drain()`` refuses new tool calls and waits for the running ones,
then the store closes.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import anyio
import uvicorn
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR
from starlette.responses import JSONResponse, Response

from mcp_memory import __version__
from mcp_memory.services import Service
from storage import StorageError

__all__ = ["HEALTH_TIMEOUT_SECONDS", "GracefulUvicorn", "InFlightCalls", "health_response"]

logger = logging.getLogger("mcp_memory")


class InFlightCalls:
    """Counts and shields tool calls in progress; ``drain()`` waits for them at shutdown."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = anyio.Event()
        self._idle.set()
        self.draining = False

    @property
    def running(self) -> int:
        """Tool calls in progress now."""
        return self._running

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Middleware: run a ``tools/call`` shielded and counted; pass anything else through."""
        if ctx.method != "tools/call":
            return await call_next(ctx)
        if self.draining:
            raise MCPError(INTERNAL_ERROR, "the server is shutting down: retry on another server")
        self._running += 1
        if self._running == 1:
            self._idle = anyio.Event()
        try:
            with anyio.CancelScope(shield=True):
                result = await call_next(ctx)
            return result
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    async def drain(self, timeout_seconds: float) -> bool:
        """Refuse new tool calls and wait up to ``timeout_seconds`` for running ones; True when all ended."""
        self.draining = True
        if self._running:
            logger.warning("shutting down: waiting for %d tool call(s) in progress", self._running)
        with anyio.move_on_after(timeout_seconds):
            await self._idle.wait()
        if self._running:
            logger.error("shutting down with %d tool call(s) still running", self._running)
            return False
        return True


class GracefulUvicorn(uvicorn.Server):
    """uvicorn's server, except that a handled SIGTERM/SIGINT is not raised again after shutdown.

    uvicorn re-raises the signal once it stopped (so the process dies "by" it); the shutdown here is
    complete when ``serve`` returns, so the process exits normally (status 0).
    """

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        on_exit: Callable[[], object],
        on_ready: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start uvicorn, then call ``on_ready`` once the socket listens."""
        await super().startup(sockets)
        if self.started and self._on_ready is not None:
            self._on_ready()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Start uvicorn's shutdown and call ``on_exit`` (from the signal handler: keep it thread-safe)."""
        super().handle_exit(sig, frame)
        self._on_exit()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


#: Bound of the store check behind ``GET /health`` (seconds).
HEALTH_TIMEOUT_SECONDS = 5.0


async def health_response(service: Service | None, in_flight: InFlightCalls) -> Response:
    """200 ``{"status": "ok", "store": "ok", ...}`` when the store answers a query within
    ``HEALTH_TIMEOUT_SECONDS``; 503 while starting, draining, or when the store is unreachable."""
    body: dict[str, Any] = {"version": __version__, "in_flight_calls": in_flight.running}
    if in_flight.draining:
        return JSONResponse({**body, "status": "draining", "store": "closing"}, status_code=503)
    if service is None:
        return JSONResponse({**body, "status": "starting", "store": "not open"}, status_code=503)
    body["backend"] = service.store.backend
    try:
        with anyio.fail_after(HEALTH_TIMEOUT_SECONDS):
            body["schema_version"] = await service.store.schema_version()
    except (StorageError, TimeoutError) as exc:
        reason = exc.message if isinstance(exc, StorageError) else "no answer in time"
        logger.warning("health check: the store is unreachable: %s", reason)
        return JSONResponse({**body, "status": "unavailable", "store": "unreachable"}, status_code=503)
    return JSONResponse({**body, "status": "ok", "store": "ok"})
