"""Fixtures for tests of a team deployment: one MCP session per agent on one store, on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_memory.config import Settings
from mcp_memory.server import build_server
from tests.conftest import PostgresServer
from tests.mcp_memory.conftest import make_settings

__all__ = ["AGENTS", "pg_server_or_none", "team", "team_overrides", "team_settings"]

#: The team: ``triage`` has clearance ``internal``; ``intern`` may only use memory tools.
AGENTS = {
    "lead": {},
    "billing": {},
    "triage": {"clearance": "internal"},
    "intern": {"tool_groups": ["memories"]},
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pg_server_or_none(request: pytest.FixtureRequest) -> PostgresServer | None:
    """The PostgreSQL server for the ``postgres`` parameter (skip or fail when absent), else ``None``."""
    if request.param == "sqlite":
        return None
    server = request.getfixturevalue("postgres_server")
    assert isinstance(server, PostgresServer)
    return server


@pytest.fixture
def team_overrides() -> dict[str, Any]:
    """Extra settings of the team deployment; a test module overrides this fixture to add some."""
    return {}


@pytest.fixture
async def team_settings(
    pg_server_or_none: PostgresServer | None, tmp_path: Path, team_overrides: dict[str, Any]
) -> AsyncIterator[Settings]:
    """Settings of a team deployment on a fresh store of each backend."""
    if pg_server_or_none is None:
        yield make_settings(tmp_path, agents=AGENTS, **team_overrides)
        return
    name = await pg_server_or_none.create_database()
    try:
        storage = {"url": pg_server_or_none.dsn(name)}
        yield make_settings(tmp_path, agents=AGENTS, storage=storage, **team_overrides)
    finally:
        await pg_server_or_none.drop_database(name)


@pytest.fixture
async def team(team_settings: Settings) -> AsyncIterator[dict[str, Client]]:
    """One connected MCP session per agent, all on the same store."""
    clients: dict[str, Client] = {}
    async with (
        Client(build_server(team_settings, agent="lead")) as lead,
        Client(build_server(team_settings, agent="billing")) as billing,
        Client(build_server(team_settings, agent="triage")) as triage,
        Client(build_server(team_settings, agent="intern")) as intern,
    ):
        clients.update(lead=lead, billing=billing, triage=triage, intern=intern)
        yield clients
