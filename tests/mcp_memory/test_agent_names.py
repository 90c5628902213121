"""Agent names are names, never patterns (issue 14, finding 4): ``serve --agent '*'`` used to expand the
default policy's ``agent-{agent}`` to ``agent-*`` and read every agent's private memories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_memory.auth import Principal, check_agent_name
from mcp_memory.config import ConfigError, Settings, load_settings
from mcp_memory.server import build_server
from tests.cli_runner import run_cli
from tests.mcp_memory.test_tools import call

pytestmark = pytest.mark.anyio

NOT_NAMES = ["*", "agent-*", "a*", "Lead", "", "-lead", "lead/x", "x" * 65, "le ad", "{agent}"]


@pytest.mark.parametrize("name", NOT_NAMES)
async def test_a_session_cannot_run_as_a_pattern_or_a_malformed_name(settings: Settings, name: str) -> None:
    with pytest.raises(ConfigError, match="agent name"):
        build_server(settings, agent=name)


async def test_serve_with_a_wildcard_agent_fails_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "mcp-memory.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[embedder]\nprovider = "none"\n', encoding="utf-8")
    result = await run_cli("serve", "--config", str(config), "--agent", "*")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "agent name '*' is not valid" in lines[0]


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"agents": {"*": {}}}, "agents"),
        ({"agents": {"Billing": {}}}, "agents"),
        ({"server": {"default_agent": "agent-*"}}, "server.default_agent"),
    ],
)
def test_the_config_refuses_agent_names_that_are_not_names(
    tmp_path: Path, overrides: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match=key):
        load_settings(None, data_dir=tmp_path, **overrides)


@pytest.mark.parametrize("name", ["lead", "billing-eu", "agent.7", "a", "x" * 64, "ops_2"])
def test_usual_agent_names_are_accepted(name: str) -> None:
    assert check_agent_name(name) == name
    assert Principal(agent=name, policy=load_settings(None).default_policy).scope().read_namespaces[0] == (
        f"agent-{name}"
    )


async def test_a_valid_agent_reads_only_its_own_private_namespace(settings: Settings) -> None:
    async with Client(build_server(settings, agent="lead")) as lead:
        await call(lead, "remember", content="lead's private plan", namespace="agent-lead")
    async with Client(build_server(settings, agent="billing")) as billing:
        with anyio.fail_after(10):
            found = await call(billing, "search_memory", query="private plan")
    assert found["results"] == []
