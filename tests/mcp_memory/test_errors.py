"""What a model sees when a call fails: a refused call is a tool error it can act on; a store outage is a
protocol error (never a tool result). The outages are real: a SQLite file locked by another connection
past the busy timeout, and a PostgreSQL whose network path goes down mid-session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import apsw
import pytest
from anyio.abc import SocketAttribute, SocketStream
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from mcp_memory.config import Settings
from mcp_memory.server import build_server
from mcp_memory.services import open_service
from storage import AuditFilter
from tests.conftest import PostgresServer
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.test_tools import call, call_error

pytestmark = pytest.mark.anyio

#: Words that would betray internals in a message a model reads.
LEAKS = ("Traceback", "SELECT", "INSERT", "postgresql://", "sqlite://", "Error executing tool", ".py")


def assert_no_leak(message: str) -> None:
    assert not [word for word in LEAKS if word in message], message


async def test_a_refused_call_is_a_tool_error_that_says_what_to_do(client: Client) -> None:
    task = await call(client, "create_task", title="call the customer back")
    await call(client, "update_task", task_id=task["task_id"], expected_version=1, priority=2)

    stale = await call_error(client, "update_task", task_id=task["task_id"], expected_version=1, priority=3)
    missing = await call_error(client, "claim_task", task_id="task_missing")
    denied = await call_error(client, "query_audit_log")
    invalid = await call_error(client, "create_task", title="")

    assert stale.startswith("Conflict: task ")
    assert "version 2, you sent 1" in stale
    assert "re-read it" in stale
    assert missing.startswith("NotFound: ")
    assert "task_missing" in missing
    assert denied.startswith("PermissionDenied: agent 'triage' may not use audit tools")
    assert invalid.startswith("InvalidInput: title: ")
    for message in (stale, missing, denied, invalid):
        assert_no_leak(message)


async def test_a_missing_resource_is_a_not_found_protocol_error(client: Client) -> None:
    with anyio.fail_after(10), pytest.raises(MCPError) as raised:
        await client.read_resource("memory://tasks/task_missing")
    assert raised.value.code == INVALID_PARAMS
    assert raised.value.message.startswith("NotFound: ")
    assert "task_missing" in raised.value.message


async def test_a_sqlite_store_locked_past_the_busy_timeout_is_a_protocol_error(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(storage={"busy_timeout_seconds": 0.2})
    async with Client(build_server(settings, agent="triage")) as client:
        await call(client, "create_room", name="before")
        other_process = apsw.Connection(str(settings.data_dir / "memory.db"))
        other_process.execute("BEGIN IMMEDIATE")  # holds the write lock, as a stuck writer would
        try:
            with anyio.fail_after(10), pytest.raises(MCPError) as raised:
                await client.call_tool("create_room", {"name": "during"})
        finally:
            other_process.execute("ROLLBACK")
            other_process.close()
        await call(client, "create_room", name="after")  # the store recovers with the lock

    assert raised.value.code == INTERNAL_ERROR
    assert raised.value.message.startswith("the memory store is unavailable (BackendUnavailable): ")
    assert "retry" in raised.value.message
    assert_no_leak(raised.value.message)
    async with open_service(settings) as service:
        page = await service.store.list_audit(AuditFilter(), limit=10)
    # The failed call's own record could not be written either (the file was locked): the two that ran.
    assert [r.name for r in reversed(page.items)] == ["create_room", "create_room"]


@asynccontextmanager
async def _cuttable_path(host: str, port: int) -> AsyncIterator[tuple[int, Callable[[], None]]]:
    """A TCP forwarder to ``host:port``: yields its local port and ``cut()``, which closes the listener and
    every forwarded connection (the database behind it is then down: connections drop, new ones are refused)."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    local_port = listener.extra(SocketAttribute.local_port)

    async def pump(source: SocketStream, sink: SocketStream) -> None:
        try:
            async for chunk in source:
                await sink.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        finally:
            await sink.aclose()

    async def forward(client: SocketStream) -> None:
        async with client, await anyio.connect_tcp(host, port) as upstream, anyio.create_task_group() as pair:
            pair.start_soon(pump, client, upstream)
            pair.start_soon(pump, upstream, client)

    serving = anyio.CancelScope()

    async def serve() -> None:
        with serving:
            async with listener:  # closed on cut: new connections are refused
                await listener.serve(forward)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(serve)
        yield local_port, serving.cancel
        serving.cancel()


@pytest.mark.postgres
async def test_a_postgresql_that_goes_down_is_a_protocol_error(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    name = await postgres_server.create_database()
    try:
        direct = urlsplit(postgres_server.dsn(name))
        assert direct.hostname is not None
        async with _cuttable_path(direct.hostname, direct.port or 5432) as (port, cut):
            userinfo = direct.netloc.rpartition("@")[0]
            proxied = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
            url = urlunsplit(direct._replace(netloc=proxied))
            settings = make_settings(tmp_path, storage={"url": url, "pool_min_size": 1, "pool_max_size": 2})
            async with Client(build_server(settings, agent="triage")) as client:
                room = await call(client, "create_room", name="before")
                cut()
                with anyio.fail_after(30), pytest.raises(MCPError) as tool_outage:
                    await client.call_tool("store_event", {"room_id": room["room_id"], "content": "hi"})
                with anyio.fail_after(30), pytest.raises(MCPError) as read_outage:
                    await client.read_resource(f"memory://rooms/{room['room_id']}")
    finally:
        await postgres_server.drop_database(name)

    for outage in (tool_outage.value, read_outage.value):
        assert outage.code == INTERNAL_ERROR
        assert outage.message.startswith("the memory store is unavailable (BackendUnavailable): ")
        assert_no_leak(outage.message)
        assert str(port) not in outage.message
