"""Fixtures for tests that run real ``mcp-memory serve`` processes: one config per backend.

``team_config`` writes a TOML config on a fresh SQLite data dir or a fresh PostgreSQL database (dropped
after the test) with the embedder off (these tests prove storage and transport, not retrieval).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import PostgresServer


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    return str(request.param)


def write_config(path: Path, *, storage_url: str | None = None, extra: str = "") -> Path:
    """Write a team config with lexical-only search; ``storage_url`` None keeps SQLite under ``data``."""
    lines = ['data_dir = "data"', "[embedder]", 'provider = "none"']
    if storage_url is not None:
        lines += ["[storage]", f'url = "{storage_url}"', "pool_max_size = 4"]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture
def pg_server_for(backend: str, request: pytest.FixtureRequest) -> PostgresServer | None:
    """The PostgreSQL server when the backend needs it (skips locally, fails under CI when absent)."""
    if backend != "postgres":
        return None
    server = request.getfixturevalue("postgres_server")
    assert isinstance(server, PostgresServer)
    return server


@pytest.fixture
async def team_config(pg_server_for: PostgresServer | None, tmp_path: Path) -> AsyncIterator[Path]:
    """A config file for the backend under test, on a new, empty database."""
    if pg_server_for is None:
        yield write_config(tmp_path / "team.toml")
        return
    name = await pg_server_for.create_database(prefix="mcpmem_p_")
    try:
        yield write_config(tmp_path / "team.toml", storage_url=pg_server_for.dsn(name))
    finally:
        await pg_server_for.drop_database(name)
