"""Size of each agent's ``tools/list`` for the shipped configs and for every profile. Prints figures.

An LLM client sends the tool list to the model on every turn; its size is counted the way issue 12
counts it, on the client: ``len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True)
for t in tools]))``, and in tokens as characters / 4 (a rough rule for English and JSON). Each agent is
connected in process over a real MCP session (stdio semantics: the server runs as that agent).
Budgets (``tests/mcp_memory/test_tool_budget.py``): the default config's default agent <= 24,000
characters, the support team's triage agent <= 20,000.

Run: ``python bench/tool_budget.py``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from mcp_memory.auth import PROFILES
from mcp_memory.config import Settings, load_settings
from mcp_memory.server import build_server

ROOT = Path(__file__).resolve().parents[1]

#: The shipped configs and the agents measured in each (``None``: the config's ``server.default_agent``).
CONFIGS: dict[str, list[str | None]] = {
    "configs/default.toml": [None],
    "configs/support-team.toml": ["triage", "technical", "billing", "supervisor"],
}


async def tool_list_size(settings: Settings, agent: str) -> tuple[int, int]:
    """``(tools, characters)`` of ``agent``'s ``tools/list`` under ``settings``."""
    async with Client(build_server(settings, agent=agent)) as client:
        tools = (await client.list_tools()).tools
    dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return len(tools), len(json.dumps(dumped))


def row(label: str, tools: int, chars: int) -> str:
    return f"{label:<58} {tools:>5} {chars:>8,} {chars // 4:>7,}"


def _profile(settings: Settings, agent: str) -> str:
    policy = settings.policy_for(agent)
    own = set(PROFILES[policy.profile]) if policy.profile else set()
    extra = [g for g in policy.tool_groups if g not in own]
    return " + ".join([policy.profile] * bool(policy.profile) + ([",".join(extra)] if extra else []))


async def main() -> None:
    print(f"{'config / agent (profile + groups)':<58} {'tools':>5} {'chars':>8} {'tokens':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, Any] = {"data_dir": tmp, "embedder": {"provider": "none"}}
        for config, agents in CONFIGS.items():
            settings = load_settings(ROOT / config, **overrides)
            for agent in agents:
                name = agent or settings.server.default_agent
                print(
                    row(
                        f"{config} {name} ({_profile(settings, name)})", *await tool_list_size(settings, name)
                    )
                )
        for profile in PROFILES:
            settings = load_settings(None, default_policy={"profile": profile}, **overrides)
            print(row(f"profile {profile}", *await tool_list_size(settings, "agent")))


if __name__ == "__main__":
    anyio.run(main)
