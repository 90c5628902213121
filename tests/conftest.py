"""Fixtures shared by every test: the anyio backend and PostgreSQL databases.

PostgreSQL is the real server on loopback (``postgresql://postgres@127.0.0.1:5432/postgres``; the env var
``MCP_MEMORY_TEST_PG_DSN`` overrides it). When it cannot be reached, tests that need it are skipped with a
reason, except under ``CI=true`` where they fail: CI must never skip PostgreSQL silently.

Databases: the session (each pytest process) migrates one template database and copies it once into a
working database; every test that asks ``pg_databases.new_url()`` gets that working database emptied
(rows deleted, sequences restarted: ~10 ms, against ~0.5 s to copy a template and ~0.6 s to migrate).
A test that needs a second database at the same time (two tenants) gets a copy of the template, dropped
after the test. A test that changed the schema (a column, an index, a migration row) leaves the working
database to be dropped and copied again, so the next test starts from the migrated schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import anyio
import pytest

PG_DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_CONNECT_TIMEOUT_SECONDS = 5.0


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis' failure report touches every loaded module's attributes; ``mypy_extensions.TypedDict``
    # warns on access, and ``filterwarnings = error`` would turn a readable failing example into an
    # INTERNALERROR that hides it.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )


#: Transports of the ``connect`` fixture (``tests/mcp_memory/conftest.py``) that run over HTTP.
HTTP_TRANSPORTS = frozenset({"streamable-http", "sse"})


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects: the marks added here count
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the fast tier (``-m "not slow"``) to every behaviour once, the whole suite to every cell.

    On PostgreSQL these are marked ``slow``: property tests (hypothesis), tests marked
    ``slow_on_postgres``, and tool tests over the HTTP transports. Each still runs in the fast tier on
    SQLite (and in memory), and on every backend and transport in the whole suite.
    """
    for item in items:
        if item.get_closest_marker("postgres") is None or item.get_closest_marker("slow") is not None:
            continue
        callspec = getattr(item, "callspec", None)
        transport = callspec.params.get("connect") if callspec is not None else None
        if (
            item.get_closest_marker("slow_on_postgres") is not None
            or getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
            or transport in HTTP_TRANSPORTS
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def on_ci() -> bool:
    """True when running under CI (``CI=true``), where a missing PostgreSQL is a failure."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def pg_server_dsn() -> str:
    """DSN of the PostgreSQL server's maintenance database used to create and drop test databases."""
    return os.environ.get("MCP_MEMORY_TEST_PG_DSN", PG_DEFAULT_DSN)


def database_dsn(server_dsn: str, database: str) -> str:
    """The server DSN with its database (URL path) replaced by ``database``."""
    return urlsplit(server_dsn)._replace(path=f"/{database}").geturl()


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresServer:
    """Creates and drops throwaway databases on the test PostgreSQL server."""

    def __init__(self, server_dsn: str) -> None:
        self.server_dsn = server_dsn

    async def _execute(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.server_dsn, timeout=PG_CONNECT_TIMEOUT_SECONDS)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_database(self, *, prefix: str = "mcpmem_t_", template: str | None = None) -> str:
        """Create an empty (or templated) database and return its name."""
        name = f"{prefix}{secrets.token_hex(6)}"
        sql = f"CREATE DATABASE {_quote_ident(name)}"
        if template is not None:
            sql += f" TEMPLATE {_quote_ident(template)}"
        await self._execute(sql)
        return name

    async def drop_database(self, name: str) -> None:
        """Drop a database even if connections are still open."""
        await self._execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def dsn(self, name: str) -> str:
        return database_dsn(self.server_dsn, name)


def _unavailable(reason: str) -> None:
    if on_ci():
        pytest.fail(f"PostgreSQL is required under CI=true but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available ({reason}); set MCP_MEMORY_TEST_PG_DSN or start the server")


@pytest.fixture(scope="session")
async def postgres_server() -> PostgresServer:
    """The reachable test PostgreSQL server; skips (locally) or fails (CI) when it is not reachable."""
    try:
        import asyncpg
    except ImportError:
        _unavailable("asyncpg is not installed (pip install -e '.[postgres]')")
    dsn = pg_server_dsn()
    try:
        with anyio.fail_after(PG_CONNECT_TIMEOUT_SECONDS + 1):
            conn = await asyncpg.connect(dsn, timeout=PG_CONNECT_TIMEOUT_SECONDS)
            await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        _unavailable(f"cannot connect to {urlsplit(dsn).hostname}:{urlsplit(dsn).port}: {exc!r}")
    return PostgresServer(dsn)


#: Bound on waiting for a table lock while emptying the working database: a test that left a transaction
#: open gets its database replaced instead of hanging the next test.
EMPTY_LOCK_TIMEOUT = "5s"

#: The schema of a database, as text: a test that changes any of it gets the working database replaced.
_SCHEMA_FINGERPRINT = """
SELECT coalesce(string_agg(item, E'\\n' ORDER BY item), '') FROM (
    SELECT format('column %s.%s.%s %s %s', table_schema, table_name, column_name, data_type, is_nullable)
        AS item FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT format('trigger %s %s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT format('schema %s', nspname) FROM pg_namespace
        WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
    UNION ALL SELECT format('extension %s %s', extname, extversion) FROM pg_extension
    UNION ALL SELECT format('migration %s', version) FROM schema_migrations
) AS parts
"""

#: Every table of the store's schema except the migration record, and every sequence.
_TABLES = """
SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1
"""
_SEQUENCES = "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences WHERE schemaname = 'public'"


class MigratedDatabases:
    """The session's migrated PostgreSQL databases: a template and one working copy emptied per use."""

    def __init__(self, server: PostgresServer, template: str) -> None:
        self.server = server
        self.template = template
        self._working: str | None = None
        self._fingerprint = ""
        self._empty_sql = ""

    @classmethod
    async def create(cls, server: PostgresServer) -> MigratedDatabases:
        """Migrate a template database with the store's own migrations (``open_store``)."""
        from storage import open_store

        template = await server.create_database(prefix="mcpmem_tpl_")
        databases = cls(server, template)
        try:
            store = await open_store(server.dsn(template))
            await store.close()
            databases._fingerprint, databases._empty_sql = await databases._inspect(template)
        except BaseException:
            await server.drop_database(template)
            raise
        return databases

    async def _inspect(self, name: str) -> tuple[str, str]:
        """The schema fingerprint of ``name`` and the SQL that empties it."""
        import asyncpg

        conn = await asyncpg.connect(self.server.dsn(name), timeout=PG_CONNECT_TIMEOUT_SECONDS)
        try:
            fingerprint = str(await conn.fetchval(_SCHEMA_FINGERPRINT))
            tables = [str(r[0]) for r in await conn.fetch(_TABLES)]
            sequences = [str(r[0]) for r in await conn.fetch(_SEQUENCES)]
        finally:
            await conn.close()
        # Deleting rows is ~50x faster than TRUNCATE on these small tables (TRUNCATE makes new files for
        # every table and index). ``replica`` turns off triggers, the append-only guard of ``audit_log``
        # included, and foreign key checks, so the order of the deletes does not matter.
        statements = ["SET LOCAL session_replication_role = replica"]
        statements += [f"DELETE FROM {table}" for table in tables]
        statements += [f"ALTER SEQUENCE {sequence} RESTART" for sequence in sequences]
        return fingerprint, ";\n".join(statements)

    async def copy(self) -> str:
        """A new database copied from the template (the caller drops it)."""
        return await self.server.create_database(template=self.template)

    async def empty_working(self) -> str:
        """The working database, emptied (or replaced when a test changed its schema or dropped it)."""
        import asyncpg

        if self._working is not None:
            try:
                conn = await asyncpg.connect(
                    self.server.dsn(self._working),
                    timeout=PG_CONNECT_TIMEOUT_SECONDS,
                    server_settings={"lock_timeout": EMPTY_LOCK_TIMEOUT},
                )
                try:
                    if await conn.fetchval(_SCHEMA_FINGERPRINT) == self._fingerprint:
                        async with conn.transaction():
                            await conn.execute(self._empty_sql)
                        return self._working
                finally:
                    await conn.close()
            except (OSError, asyncpg.PostgresError):
                pass  # dropped by the test, or locked by a connection it left open: replace it
            await self.server.drop_database(self._working)
            self._working = None
        self._working = await self.copy()
        return self._working

    async def aclose(self) -> None:
        if self._working is not None:
            await self.server.drop_database(self._working)
        await self.server.drop_database(self.template)


@pytest.fixture(scope="session")
async def migrated_databases(postgres_server: PostgresServer) -> AsyncIterator[MigratedDatabases]:
    """The session's template and working database (see the module docstring)."""
    databases = await MigratedDatabases.create(postgres_server)
    try:
        yield databases
    finally:
        await databases.aclose()


class PostgresDatabases:
    """The PostgreSQL databases of one test: the working database first, template copies after it."""

    def __init__(self, databases: MigratedDatabases) -> None:
        self._databases = databases
        self._working_taken = False
        self._copies: list[str] = []

    @property
    def server(self) -> PostgresServer:
        return self._databases.server

    async def new_url(self) -> str:
        """The URL of a migrated, empty database that no other URL of this test names.

        The first call returns the session's working database, emptied; later calls return copies of the
        template (~0.5 s each), dropped after the test.
        """
        if not self._working_taken:
            self._working_taken = True
            return self.server.dsn(await self._databases.empty_working())
        name = await self._databases.copy()
        self._copies.append(name)
        return self.server.dsn(name)

    async def renew_url(self) -> str:
        """Empty the working database again and return its URL (a fresh store per hypothesis example).

        Stores still open on it must not be used afterwards.
        """
        self._working_taken = True
        return self.server.dsn(await self._databases.empty_working())

    async def aclose(self) -> None:
        for name in self._copies:
            await self.server.drop_database(name)


@pytest.fixture
async def pg_databases(migrated_databases: MigratedDatabases) -> AsyncIterator[PostgresDatabases]:
    """This test's PostgreSQL databases (skips locally, fails under CI, when PostgreSQL is down)."""
    databases = PostgresDatabases(migrated_databases)
    try:
        yield databases
    finally:
        await databases.aclose()
