"""Fixtures for server-level tests: settings on a fresh data dir and a connected in-process MCP client."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_memory.config import Settings, load_settings
from mcp_memory.server import build_server
from tests.conftest import PostgresServer


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


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, agent="triage")) as connected:
        yield connected


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings_backend(request: pytest.FixtureRequest) -> PostgresServer | None:
    """The backend of ``backend_settings``: ``None`` for SQLite, else the test PostgreSQL server."""
    if request.param == "sqlite":
        return None
    server = request.getfixturevalue("postgres_server")
    assert isinstance(server, PostgresServer)
    return server


@pytest.fixture
async def backend_settings(
    settings_backend: PostgresServer | None, tmp_path: Path
) -> AsyncIterator[Settings]:
    """Settings on each backend: a SQLite file under ``tmp_path``, or a fresh PostgreSQL database.

    Servers built from these settings (one per agent) share the database like separate processes do.
    """
    if settings_backend is None:
        yield make_settings(tmp_path)
        return
    name = await settings_backend.create_database()
    try:
        yield make_settings(tmp_path, storage={"url": settings_backend.dsn(name), "pool_max_size": 4})
    finally:
        await settings_backend.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tenant_server(request: pytest.FixtureRequest) -> Any:
    """``None`` for SQLite, else the test PostgreSQL server (skipped locally / failing under CI when down)."""
    return request.getfixturevalue("postgres_server") if request.param == "postgres" else None


@pytest.fixture
async def storage_url_factory(
    tenant_server: Any, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Makes URLs of fresh, empty databases of one backend (a SQLite file, or a PostgreSQL database
    dropped at teardown), for service-level tests that must hold on both backends."""
    created: list[str] = []
    server = tenant_server
    files = itertools.count(1)

    async def new_url() -> str:
        if server is None:
            return f"sqlite:///{tmp_path}/tenant-{next(files)}.db"
        name = await server.create_database()
        created.append(name)
        return str(server.dsn(name))

    try:
        yield new_url
    finally:
        for name in created:
            assert server is not None
            await server.drop_database(name)
