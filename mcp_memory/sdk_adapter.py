"""Every place mcp-memory relies on the MCP SDK's private or undocumented parts, in one module.

The SDK (``mcp`` 2.3) has no public hook for these; each function names what it reaches into. When the SDK
changes under one of them, ``tests/mcp_memory/test_sdk_adapter.py`` fails and names the hook, so an SDK
upgrade is a change here (and nowhere else):

- ``add_request_handler``: ``MCPServer._lowlevel_server.add_request_handler`` (``resources/subscribe``,
  ``resources/unsubscribe`` and our own ``subscriptions/listen`` handler; ``MCPServer`` registers only its
  own methods).
- ``run_session``: ``MCPServer._lowlevel_server.run`` (what ``MCPServer.run_stdio_async`` calls) on streams of
  our own (``mcp_memory.stdio``: the SDK's stdio reader drops malformed lines unanswered).
- ``connection_of``: ``ServerSession._connection`` (the connection outlives the per-request session:
  legacy subscriptions are kept on it).
- ``tool_input_schemas``: ``MCPServer._tool_manager`` (the registered tools, read synchronously while the
  server is assembled; ``MCPServer.list_tools`` is async).
- ``lifespan_state``: the lifespan state behind a ``Context`` (public ``request_context``, but it raises
  ``ValueError`` outside a request).
- ``sdk_cause``: the exception a tool or resource raised, behind the SDK's ``UnexpectedToolError`` /
  ``UnexpectedResourceError`` / ``ToolError`` wrappers (documented: its ``__cause__``), which the server's
  ``call_tool`` and ``read_resource`` overrides rely on to map domain errors. Those overrides also rely on
  the request handlers calling ``self.call_tool`` / ``self.read_resource`` (checked by the test).
"""

from __future__ import annotations

from typing import Any, TypeVar

from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import RequestHandler
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.shared.message import SessionMessage
from pydantic import BaseModel

__all__ = [
    "add_request_handler",
    "connection_of",
    "lifespan_state",
    "run_session",
    "sdk_cause",
    "tool_input_schemas",
]

ParamsT = TypeVar("ParamsT", bound=BaseModel)


def add_request_handler(
    server: MCPServer[Any], method: str, params_type: type[ParamsT], handler: RequestHandler[Any, ParamsT]
) -> None:
    """Serve JSON-RPC ``method`` on ``server`` with ``handler`` (replacing the SDK's handler, if any).

    Reaches into ``MCPServer._lowlevel_server`` (the SDK's ``Server``, whose ``add_request_handler`` is public).
    """
    server._lowlevel_server.add_request_handler(method, params_type, handler)


async def run_session(
    server: MCPServer[Any],
    read_stream: MemoryObjectReceiveStream[SessionMessage | Exception],
    write_stream: MemoryObjectSendStream[SessionMessage],
) -> None:
    """Serve one MCP session of ``server`` over the two streams until the read stream ends.

    Reaches into ``MCPServer._lowlevel_server`` as ``MCPServer.run_stdio_async`` does (SDK 2.3).
    """
    lowlevel = server._lowlevel_server
    await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def connection_of(ctx: ServerRequestContext[Any, Any]) -> Connection:
    """The connection a request came on (lives as long as the client stays connected).

    Reaches into ``ServerSession._connection`` (SDK 2.3 does not expose it).
    """
    connection = ctx.session._connection
    if not isinstance(connection, Connection):
        raise TypeError(
            f"the SDK's ServerSession._connection is a {type(connection).__name__}, not a Connection"
        )
    return connection


def tool_input_schemas(server: MCPServer[Any]) -> dict[str, dict[str, Any]]:
    """The JSON input schema of each tool registered on ``server`` so far (tool name -> schema).

    Reaches into ``MCPServer._tool_manager`` (SDK 2.3 lists tools only asynchronously, per request).
    """
    return {tool.name: tool.parameters for tool in server._tool_manager.list_tools()}


def lifespan_state(ctx: Context[Any, Any] | None) -> Any:
    """The server's lifespan state behind ``ctx``, or ``None`` outside a request (or without a context)."""
    if ctx is None:
        return None
    try:
        return ctx.request_context.lifespan_context
    except (ValueError, AttributeError, LookupError):
        return None


def sdk_cause(exc: BaseException) -> BaseException | None:
    """What a tool or resource function raised, behind the SDK's wrapper ``exc``; ``None`` when ``exc``
    is the SDK's own (an unknown tool, for example) or a ``ToolError``/``ResourceError`` raised on purpose.

    ``Tool.run`` raises ``ToolError``/``UnexpectedToolError`` and ``read_resource`` raises
    ``UnexpectedResourceError`` with the original as ``__cause__``; a ``ToolError`` or ``ResourceError``
    raised deliberately has no cause or another SDK error as its cause.
    """
    cause = exc.__cause__
    while isinstance(cause, ToolError | ResourceError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if cause is None or isinstance(cause, ToolError | ResourceError):
        return None
    return cause
