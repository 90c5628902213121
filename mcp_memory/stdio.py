"""Serving one agent over stdio: newline-delimited JSON-RPC on stdin and stdout, with a graceful end.

``serve_stdio`` replaces the SDK's ``MCPServer.run("stdio")`` (``mcp/server/stdio.py: stdio_server``) for
two reasons found in the SDK (``mcp`` 2.3):

- A line that does not validate as a JSON-RPC message (a lone surrogate ``\\ud800``, JSON nested ~200
  deep, plain garbage) is handed to the session as an exception (``mcp/server/stdio.py``, lines 189-191:
  ``except Exception as exc: await read_stream_writer.send(exc)``), which the dispatcher logs at debug
  level and drops (``mcp/shared/jsonrpc_dispatcher.py``, lines 555-558): no reply, so the client waits
  until its own timeout. Here such a line is answered with a JSON-RPC error ``-32700`` (Parse error), as
  HTTP answers the same body (400, ``-32700``), carrying the request's ``id`` when Python's lenient JSON
  parser can still read it (so the client's pending request ends), else ``null`` (JSON-RPC 2.0, section 5.1).
- stdin is read in anyio worker threads, which a signal cannot interrupt: SIGINT did not stop the server
  (it waited for the next line) and SIGTERM killed it without closing the store. Here stdin is read by a
  daemon thread, and SIGINT or SIGTERM end the session gracefully: open ``subscriptions/listen`` streams
  end, new tool calls are refused while running ones finish (their writes commit, their answers are
  written, up to ``server.shutdown_grace_seconds``), the store closes, and the process exits with status 0.

The store opens before the session starts, so a store or key that fails is one line from the CLI. While
serving, file descriptor 1 points at stderr (stray prints of libraries cannot corrupt the wire; the SDK
does the same) and is restored afterwards.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, BinaryIO

import anyio
import anyio.from_thread
import anyio.lowlevel
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from mcp_memory.config import Settings
from mcp_memory.sdk_adapter import run_session
from mcp_memory.server import ServerParts, assemble

__all__ = ["parse_error_reply", "serve_stdio"]

logger = logging.getLogger("mcp_memory")

#: Bytes read from stdin at a time.
READ_CHUNK_BYTES = 65536

#: Longest part of a parser's complaint quoted in a parse error (characters).
MAX_DETAIL_CHARS = 200


def parse_error_reply(line: str, error: ValidationError) -> types.JSONRPCError:
    """The JSON-RPC error answering ``line``, which did not validate as a JSON-RPC message.

    The ``id`` is the line's own when it can still be read (Python's ``json`` accepts lone surrogates and
    deeper nesting than the SDK's parser), else ``None``.
    """
    request_id: str | int | None = None
    try:
        parsed: Any = json.loads(line)
    except (ValueError, RecursionError):
        parsed = None
    if (
        isinstance(parsed, dict)
        and isinstance(parsed.get("id"), str | int)
        and not isinstance(parsed.get("id"), bool)
    ):
        request_id = parsed["id"]
    first = error.errors()[0]["msg"] if error.errors() else str(error)
    message = f"Parse error: not a valid JSON-RPC message ({first[:MAX_DETAIL_CHARS]})"
    return types.JSONRPCError(
        jsonrpc="2.0", id=request_id, error=types.ErrorData(code=types.PARSE_ERROR, message=message)
    )


async def serve_stdio(
    settings: Settings, *, agent: str | None = None, on_ready: Callable[[], object] | None = None
) -> None:
    """Serve one MCP session over stdin/stdout as ``agent`` until stdin ends, SIGINT or SIGTERM.

    ``on_ready`` is called once the store is open and the session is about to start (the CLI's banner).

    Raises:
        ConfigError: the settings or ``agent`` are invalid, or ``encryption_key`` is not the store's key.
        StorageError: the store cannot be opened.
    """
    parts = assemble(settings, agent=agent, transport="stdio")
    async with parts.shared.use(), _wire() as (wire_in, wire_out):
        read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](0)
        lines_send, lines_recv = anyio.create_memory_object_stream[bytes](0)
        _start_reader_thread(wire_in, lines_send)
        stop = anyio.Event()
        if on_ready is not None:
            on_ready()
        async with anyio.create_task_group() as writing:
            writing.start_soon(_write_messages, write_recv, wire_out)  # ends once every sender closed
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async with anyio.create_task_group() as session:
                    session.start_soon(_read_messages, lines_recv, read_send, write_send.clone(), stop)
                    session.start_soon(_on_signal, signals, parts, stop)
                    async with write_send:
                        await run_session(parts.server, read_recv, write_send)
                    parts.listen.close()
                    await parts.in_flight.drain(parts.grace_seconds)
                    session.cancel_scope.cancel()
    logger.info("mcp-memory stopped cleanly")


async def _on_signal(signals: AsyncIterator[int], parts: ServerParts, stop: anyio.Event) -> None:
    """On SIGINT/SIGTERM: end listen streams, finish running calls (refusing new ones), end the session."""
    async for signum in signals:
        logger.warning("received %s: finishing calls in progress, then stopping", signal.Signals(signum).name)
        parts.listen.close()
        await parts.in_flight.drain(parts.grace_seconds)
        stop.set()
        return


async def _read_messages(
    lines: MemoryObjectReceiveStream[bytes],
    messages: MemoryObjectSendStream[SessionMessage | Exception],
    replies: MemoryObjectSendStream[SessionMessage],
    stop: anyio.Event,
) -> None:
    """Parse stdin's lines into the session; answer malformed ones; end the session at EOF or ``stop``."""
    async with lines, messages, replies, anyio.create_task_group() as tasks:

        async def end_on_stop() -> None:
            await stop.wait()
            tasks.cancel_scope.cancel()

        tasks.start_soon(end_on_stop)
        async for raw in lines:
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            try:
                message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except ValidationError as exc:
                await replies.send(SessionMessage(parse_error_reply(line, exc)))
                continue
            await messages.send(SessionMessage(message))
        tasks.cancel_scope.cancel()


async def _write_messages(messages: MemoryObjectReceiveStream[SessionMessage], wire: BinaryIO) -> None:
    async with messages:
        async for session_message in messages:
            data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
            await anyio.to_thread.run_sync(_write_line, wire, data.encode("utf-8"))


def _write_line(wire: BinaryIO, data: bytes) -> None:
    wire.write(data)
    wire.flush()


def _start_reader_thread(fd: int, lines: MemoryObjectSendStream[bytes]) -> None:
    """Read lines from file descriptor ``fd`` in a daemon thread (a blocked read never holds up the exit).

    Plain ``os.read`` on a private descriptor, no buffered file object: a daemon thread blocked inside
    ``sys.stdin.buffer`` holds its lock, and the interpreter's shutdown then aborts trying to take it.
    """
    token = anyio.lowlevel.current_token()

    def read() -> None:
        pending = b""
        try:
            while chunk := os.read(fd, READ_CHUNK_BYTES):
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    anyio.from_thread.run(lines.send, raw, token=token)
            if pending:
                anyio.from_thread.run(lines.send, pending, token=token)
        except (RuntimeError, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            return  # the session ended first
        finally:
            with suppress(RuntimeError):  # the event loop is gone
                anyio.from_thread.run_sync(lines.close, token=token)

    threading.Thread(target=read, name="mcp-memory-stdin", daemon=True).start()


@asynccontextmanager
async def _wire() -> AsyncIterator[tuple[int, BinaryIO]]:
    """A private descriptor of stdin and a private copy of stdout; fd 1 points at stderr meanwhile."""
    fd_in = os.dup(sys.stdin.fileno())
    fd_out = sys.stdout.fileno()
    sys.stdout.flush()
    private = os.dup(fd_out)
    os.dup2(sys.stderr.fileno(), fd_out)
    try:
        with os.fdopen(private, "wb", closefd=False) as wire_out:
            yield fd_in, wire_out
    finally:
        os.dup2(private, fd_out)
        os.close(private)
