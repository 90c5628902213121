"""Budgets of what an agent reads on every turn: the size of its ``tools/list`` for the shipped configs.

Counted on the client as issue 12 does; ``bench/tool_budget.py`` prints every agent's and profile's size.
A new tool must fit: make it lean (short description, every parameter described in a few words), or put it
in a group the agent does not have.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client

from mcp_memory.config import Settings, load_settings
from mcp_memory.server import build_server

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]

#: (config, agent) -> most characters of its tools/list (issue 12: default agent 24,000, triage 20,000).
BUDGETS = {
    ("configs/default.toml", "assistant"): 24_000,
    ("mcp_memory/starter.toml", "assistant"): 24_000,
    ("configs/support-team.toml", "triage"): 20_000,
}


async def tool_list_size(settings: Settings, agent: str) -> tuple[int, int]:
    """``(tools, characters)`` of ``agent``'s ``tools/list`` (the count of ``bench/tool_budget.py``)."""
    async with Client(build_server(settings, agent=agent)) as client:
        tools = (await client.list_tools()).tools
    return len(tools), len(
        json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])
    )


@pytest.mark.parametrize(("config", "agent"), list(BUDGETS))
async def test_shipped_agents_tool_lists_fit_their_budget(config: str, agent: str, tmp_path: Path) -> None:
    settings = load_settings(ROOT / config, data_dir=tmp_path, embedder={"provider": "none"})
    assert settings.server.default_agent == agent or config.endswith("support-team.toml")
    tools, chars = await tool_list_size(settings, agent)
    print(f"{config} {agent}: {tools} tools, {chars} characters (~{chars // 4} tokens)")
    assert tools > 0
    assert chars <= BUDGETS[config, agent]
