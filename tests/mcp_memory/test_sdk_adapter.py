"""Guards on the SDK internals mcp-memory relies on (``mcp_memory/sdk_adapter.py``): when an SDK upgrade
changes one, a test here fails and names it. Each runs a plain ``MCPServer`` through a real client session,
over the modern in-process path and the legacy (initialize handshake) one."""

from __future__ import annotations

import warnings
from typing import Any

import anyio
import pytest
from mcp import Client, types
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from pydantic import AnyUrl, ValidationError

from mcp_memory.sdk_adapter import (
    add_request_handler,
    connection_of,
    lifespan_state,
    sdk_cause,
    tool_input_schemas,
)

pytestmark = pytest.mark.anyio

MODES = ["auto", "legacy"]


class Crash(Exception):
    """What a tool or resource raises in these tests."""


class Recording(MCPServer[Any]):
    """An ``MCPServer`` whose ``call_tool``/``read_resource`` overrides note what reached them."""

    def __init__(self) -> None:
        super().__init__(name="adapter-test")
        self.seen: list[tuple[str, str, BaseException | None, Any]] = []

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        state = lifespan_state(context)
        try:
            result = await super().call_tool(name, arguments, context)
        except ToolError as exc:
            self.seen.append(("tool", name, sdk_cause(exc), state))
            raise
        self.seen.append(("tool", name, None, state))
        return result

    async def read_resource(self, uri: AnyUrl | str, context: Context[Any, Any] | None = None) -> Any:
        try:
            return await super().read_resource(uri, context)
        except ResourceError as exc:
            self.seen.append(("resource", str(uri), sdk_cause(exc), lifespan_state(context)))
            raise


def _recording_server() -> Recording:
    server = Recording()

    @server.tool()
    async def crashes() -> str:
        raise Crash("boom")

    @server.tool()
    async def refuses() -> str:
        raise ToolError("deliberate")

    @server.tool()
    async def echoes(text: str) -> str:
        return text

    @server.resource("test://items/{item_id}")
    async def item(item_id: str) -> str:
        raise Crash(item_id)

    return server


@pytest.mark.parametrize("mode", MODES)
async def test_requests_go_through_the_overridable_call_tool_and_read_resource(mode: Any) -> None:
    """``MemoryServer`` audits and maps errors in these two overrides: the request path must call them,
    and the SDK's wrapper must carry what the function raised as its ``__cause__``."""
    server = _recording_server()
    async with Client(server, mode=mode) as client:
        with anyio.fail_after(10):
            assert (await client.call_tool("echoes", {"text": "hi"})).is_error is False
            assert (await client.call_tool("crashes", {})).is_error
            assert (await client.call_tool("refuses", {})).is_error
            assert (await client.call_tool("echoes", {})).is_error
            with pytest.raises(MCPError, match="test://items/x"):
                await client.read_resource("test://items/x")

    kinds = [(kind, name) for kind, name, _, _ in server.seen]
    assert kinds == [
        ("tool", "echoes"),
        ("tool", "crashes"),
        ("tool", "refuses"),
        ("tool", "echoes"),
        ("resource", "test://items/x"),
    ]
    causes = [cause for _, _, cause, _ in server.seen]
    assert causes[0] is None
    assert isinstance(causes[1], Crash)  # a crash: the original exception
    assert causes[2] is None  # a deliberate ToolError: nothing behind it
    assert isinstance(causes[3], ValidationError)  # arguments refused by the input schema
    assert isinstance(causes[4], Crash)
    assert [state for _, _, _, state in server.seen] == [{}] * 5  # the lifespan state, inside a request


def test_lifespan_state_is_none_outside_a_request() -> None:
    assert lifespan_state(None) is None
    assert lifespan_state(Context()) is None


async def test_add_request_handler_serves_a_method_and_connection_of_finds_its_connection() -> None:
    """``resources/subscribe`` (MCPServer has no public hook) is served through the low-level server, and
    the handler finds the request's connection (``ServerSession._connection``)."""
    server = MCPServer[Any](name="adapter-test")
    connections: list[Connection] = []

    async def on_subscribe(
        ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        connections.append(connection_of(ctx))
        return types.EmptyResult()

    add_request_handler(server, "resources/subscribe", types.SubscribeRequestParams, on_subscribe)
    async with Client(server, mode="legacy") as client:
        with anyio.fail_after(10), warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)  # the legacy form is deprecated, not gone
            await client.subscribe_resource("test://items/1")
            await client.subscribe_resource("test://items/2")

    assert len(connections) == 2
    assert all(isinstance(c, Connection) for c in connections)
    assert connections[0] is connections[1]  # one connection per client session


def test_tool_input_schemas_lists_the_registered_tools_with_their_schemas() -> None:
    """Tool groups and strict arguments are built from ``MCPServer._tool_manager`` while the server is
    assembled (``tool_input_schemas``)."""
    server = _recording_server()
    schemas = tool_input_schemas(server)
    assert set(schemas) == {"crashes", "refuses", "echoes"}
    assert set(schemas["echoes"]["properties"]) == {"text"}
