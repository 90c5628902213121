"""The PostgreSQL change feed survives a lost connection (issue 14, finding 8): its listener reconnects with
backoff and tells subscribers to re-read, so a change made while it was away still reaches them.
The listening connection is cut with ``pg_terminate_backend``, as a database restart or a proxy would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import asyncpg
import pytest
from mcp import Client

from mcp_memory.config import Settings
from mcp_memory.server import build_server
from mcp_memory.services import open_service
from storage import RESYNC_TOPIC
from storage.postgres.notify import FEED_APPLICATION_NAME
from tests.conftest import PostgresDatabases
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.test_tools import call

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

WAIT_SECONDS = 15


@pytest.fixture
async def pg_settings(pg_databases: PostgresDatabases, tmp_path: Path) -> Settings:
    return make_settings(tmp_path, storage={"url": await pg_databases.new_url(), "pool_max_size": 4})


async def feed_connections(admin: asyncpg.Connection, database: str) -> int:
    count = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
        database,
        FEED_APPLICATION_NAME,
    )
    return int(count)


@asynccontextmanager
async def admin_of(
    settings: Settings, pg_databases: PostgresDatabases
) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    database = settings.storage_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_databases.server.server_dsn)
    try:
        yield admin, database
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()


async def cut_feeds(admin: asyncpg.Connection, database: str) -> None:
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
        database,
        FEED_APPLICATION_NAME,
    )


async def wait_for_feeds(admin: asyncpg.Connection, database: str, count: int) -> None:
    with anyio.fail_after(WAIT_SECONDS):
        # Readiness probe on the database's state (no event to wait on): the listeners are back.
        while await feed_connections(admin, database) < count:  # noqa: ASYNC110
            await anyio.sleep(0.05)


async def test_the_listener_reconnects_and_a_later_change_reaches_another_server(
    pg_settings: Settings, pg_databases: PostgresDatabases
) -> None:
    async with (
        admin_of(pg_settings, pg_databases) as (admin, database),
        Client(build_server(pg_settings, agent="triage")) as triage,
        Client(build_server(pg_settings, agent="billing")) as billing,
    ):
        await call(triage, "set_fact", namespace="shared-deal", key="status", value="open")
        uri = "memory://facts/shared-deal/status"
        await wait_for_feeds(admin, database, 2)
        await cut_feeds(admin, database)
        await wait_for_feeds(admin, database, 2)
        with anyio.fail_after(WAIT_SECONDS):
            async with triage.listen(resource_subscriptions=[uri]) as subscription:
                await call(
                    billing,
                    "set_fact",
                    namespace="shared-deal",
                    key="status",
                    value="held",
                    expected_version=1,
                )
                async for event in subscription:
                    assert getattr(event, "uri", None) == uri
                    break


async def test_a_change_made_while_the_listener_was_away_reaches_the_subscriber(
    pg_settings: Settings, pg_databases: PostgresDatabases
) -> None:
    async with (
        admin_of(pg_settings, pg_databases) as (admin, database),
        Client(build_server(pg_settings, agent="triage")) as triage,
        Client(build_server(pg_settings, agent="billing")) as billing,
    ):
        await call(triage, "set_fact", namespace="shared-deal", key="status", value="open")
        uri = "memory://facts/shared-deal/status"
        await wait_for_feeds(admin, database, 2)
        with anyio.fail_after(WAIT_SECONDS):
            async with triage.listen(resource_subscriptions=[uri]) as subscription:
                # Keep the listeners out (pool connections stay), cut them, change the fact, let them back.
                await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
                await cut_feeds(admin, database)
                await call(
                    billing,
                    "set_fact",
                    namespace="shared-deal",
                    key="status",
                    value="held",
                    expected_version=1,
                )
                await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
                async for event in subscription:
                    assert getattr(event, "uri", None) == uri
                    break


async def test_the_change_bus_hears_resync_after_the_feed_is_back(
    pg_settings: Settings, pg_databases: PostgresDatabases
) -> None:
    heard: list[str] = []
    resynced = anyio.Event()

    def listener(uri: str) -> None:
        heard.append(uri)
        if uri == RESYNC_TOPIC:
            resynced.set()

    async with admin_of(pg_settings, pg_databases) as (admin, database), open_service(pg_settings) as service:
        unsubscribe = service.changes.subscribe(listener)
        await wait_for_feeds(admin, database, 1)
        await cut_feeds(admin, database)
        with anyio.fail_after(WAIT_SECONDS):
            await resynced.wait()
        unsubscribe()
    assert heard == [RESYNC_TOPIC]
