"""Fixtures for server-level tests: settings on a fresh data dir, and SDK clients over every transport.

``connect`` is parametrized over ``in-memory``, ``streamable-http`` and ``sse`` (all in process, see
``tests/mcp_memory/transports.py``): a test that connects through it runs once per transport.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_memory.config import Settings, load_settings
from tests.conftest import PostgresDatabases
from tests.mcp_memory.transports import TRANSPORTS, Connect, connect_over


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings on ``data_dir`` with lexical-only search unless ``embedder`` is overridden."""
    overrides.setdefault("embedder", {"provider": "none"})
    return load_settings(None, data_dir=data_dir, **overrides)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Build settings on this test's data dir with overrides, e.g. ``limits={...}``."""
    return lambda **overrides: make_settings(tmp_path, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(params=TRANSPORTS)
def connect(request: pytest.FixtureRequest) -> Connect:
    """Connects an SDK client as an agent to a server built from settings, over each transport in turn:
    ``async with connect(settings, "billing") as client: ...``."""
    return connect_over(str(request.param))


@pytest.fixture
async def client(connect: Connect, settings: Settings) -> AsyncIterator[Client]:
    """A client connected as ``triage`` over each transport."""
    async with connect(settings, "triage") as connected:
        yield connected


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings_backend(request: pytest.FixtureRequest) -> PostgresDatabases | None:
    """The backend of ``backend_settings``: ``None`` for SQLite, else this test's PostgreSQL databases."""
    if request.param == "sqlite":
        return None
    databases = request.getfixturevalue("pg_databases")
    assert isinstance(databases, PostgresDatabases)
    return databases


@pytest.fixture
async def backend_settings(settings_backend: PostgresDatabases | None, tmp_path: Path) -> Settings:
    """Settings on each backend: a SQLite file under ``tmp_path``, or an empty PostgreSQL database.

    Servers built from these settings (one per agent) share the database like separate processes do.
    """
    if settings_backend is None:
        return make_settings(tmp_path)
    url = await settings_backend.new_url()
    return make_settings(tmp_path, storage={"url": url, "pool_max_size": 4})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tenant_databases(request: pytest.FixtureRequest) -> PostgresDatabases | None:
    """``None`` for SQLite, else this test's PostgreSQL databases (skipped locally / failing under CI
    when PostgreSQL is down)."""
    if request.param == "sqlite":
        return None
    databases = request.getfixturevalue("pg_databases")
    assert isinstance(databases, PostgresDatabases)
    return databases


@pytest.fixture
def storage_url_factory(
    tenant_databases: PostgresDatabases | None, tmp_path: Path
) -> Callable[[], Awaitable[str]]:
    """Makes URLs of empty databases of one backend (a SQLite file, or a PostgreSQL database), each
    different from the ones made before, for service-level tests that must hold on both backends."""
    files = itertools.count(1)

    async def new_url() -> str:
        if tenant_databases is None:
            return f"sqlite:///{tmp_path}/tenant-{next(files)}.db"
        return await tenant_databases.new_url()

    return new_url
