"""Fixtures for tests of a team deployment: one MCP session per agent on one store, on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_memory.config import Settings
from tests.conftest import PostgresDatabases
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.transports import Connect

__all__ = ["AGENTS", "pg_server_or_none", "team", "team_overrides", "team_settings"]

#: The team: ``triage`` has clearance ``internal``; ``intern`` may only use memory tools.
AGENTS = {
    "lead": {},
    "billing": {},
    "triage": {"clearance": "internal"},
    "intern": {"tool_groups": ["memories"]},
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pg_server_or_none(request: pytest.FixtureRequest) -> PostgresDatabases | None:
    """This test's PostgreSQL databases for the ``postgres`` parameter (skip or fail when absent), else
    ``None``."""
    if request.param == "sqlite":
        return None
    databases = request.getfixturevalue("pg_databases")
    assert isinstance(databases, PostgresDatabases)
    return databases


@pytest.fixture
def team_overrides() -> dict[str, Any]:
    """Extra settings of the team deployment; a test module overrides this fixture to add some."""
    return {}


@pytest.fixture
async def team_settings(
    pg_server_or_none: PostgresDatabases | None, tmp_path: Path, team_overrides: dict[str, Any]
) -> Settings:
    """Settings of a team deployment on an empty store of each backend."""
    if pg_server_or_none is None:
        return make_settings(tmp_path, agents=AGENTS, **team_overrides)
    storage = {"url": await pg_server_or_none.new_url()}
    return make_settings(tmp_path, agents=AGENTS, storage=storage, **team_overrides)


@pytest.fixture
async def team(connect: Connect, team_settings: Settings) -> AsyncIterator[dict[str, Client]]:
    """One connected MCP session per agent, all on the same store, over each transport."""
    async with connect.team(team_settings, AGENTS) as clients:
        yield clients
