"""Two stdio server processes on one database race ``set_fact`` at one version: one wins, one conflicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.mcp_memory.test_tools import call
from tests.processes.driver import server_parameters

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_two_stdio_server_processes_racing_set_fact_get_one_success_and_one_conflict(
    team_config: Path,
) -> None:
    with anyio.fail_after(90):
        async with (
            Client(server_parameters(team_config, "triage")) as triage,
            Client(server_parameters(team_config, "billing")) as billing,
        ):
            await call(triage, "set_fact", namespace="shared-case-9", key="owner", value="nobody")
            outcomes: dict[str, Any] = {}

            async def write(agent: str, client: Client) -> None:
                outcomes[agent] = await client.call_tool(
                    "set_fact",
                    {"namespace": "shared-case-9", "key": "owner", "value": agent, "expected_version": 1},
                )

            async with anyio.create_task_group() as tg:
                tg.start_soon(write, "triage", triage)
                tg.start_soon(write, "billing", billing)
            final = await call(billing, "get_fact", namespace="shared-case-9", key="owner")

    winners = [agent for agent, result in outcomes.items() if not result.is_error]
    [loser] = [result for result in outcomes.values() if result.is_error]
    assert winners == [final["value"]]
    assert final["version"] == 2
    assert "Conflict: fact shared-case-9/owner is at version 2" in loser.content[0].text  # type: ignore[union-attr]
