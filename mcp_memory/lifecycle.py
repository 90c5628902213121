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

__all__ = ["GracefulUvicorn", "InFlightCalls"]

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
