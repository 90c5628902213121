"""Fixtures shared by every test: the anyio backend and throwaway PostgreSQL databases.

PostgreSQL is the real server on loopback (``postgresql://postgres@127.0.0.1:5432/postgres``; the env var
``MCP_MEMORY_TEST_PG_DSN`` overrides it). When it cannot be reached, tests that need it are skipped with a
reason, except under ``CI=true`` where they fail: CI must never skip PostgreSQL silently.
"""

from __future__ import annotations

import os
import secrets
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
