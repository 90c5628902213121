"""Metrics: ``/metrics`` in the Prometheus text format (parsed with prometheus-client's own parser), and the
coordination metrics (task completion time, rework rate, escalation rate) as a tool, a resource and a CLI.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from typer.testing import CliRunner

from mcp_memory.cli import app
from mcp_memory.config import Settings
from mcp_memory.operators import operator_routes
from mcp_memory.server import build_server
from mcp_memory.services import open_service
from mcp_memory.services.coordination import iso_week
from storage.models import utc_now
from tests.conftest import PostgresDatabases
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.seeding import OPERATORS_TEAM, seed
from tests.mcp_memory.test_tools import call, call_error

pytestmark = pytest.mark.anyio

TOKENS = {agent: f"metrics-{agent}" for agent in OPERATORS_TEAM}
AGENTS = {
    agent: {**policy, "token_sha256": hashlib.sha256(TOKENS[agent].encode()).hexdigest()}
    for agent, policy in OPERATORS_TEAM.items()
}


@pytest.fixture
async def team_settings(settings_backend: PostgresDatabases | None, tmp_path: Path) -> Settings:
    """The operators' team on a fresh store of each backend."""
    if settings_backend is None:
        return make_settings(tmp_path, agents=AGENTS)
    return make_settings(tmp_path, agents=AGENTS, storage={"url": await settings_backend.new_url()})


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by (name, labels), parsed by prometheus-client's text parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_tool_calls_outcomes_latency_store_errors_and_live_gauges(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, agents=AGENTS)
    async with open_service(settings) as service:
        routes = operator_routes(
            settings, service=lambda: service, open_subscriptions=lambda: 3, in_flight=lambda: 1
        )
        transport = httpx.ASGITransport(app=Starlette(routes=routes))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

            async def scrape(agent: str = "lead") -> httpx.Response:
                return await http.get("/metrics", headers={"Authorization": f"Bearer {TOKENS[agent]}"})

            assert (await http.get("/metrics")).status_code == 401
            assert (await scrape("triage")).status_code == 403
            first = await scrape()
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/plain; version=0.0.4")
            before = samples(first.text)
            async with Client(build_server(settings, agent="billing")) as billing:
                await call(billing, "set_fact", namespace="shared-ops", key="limit", value=50)
                await call(
                    billing, "set_fact", namespace="shared-ops", key="limit", value=60, expected_version=1
                )
                assert "NotFound" in await call_error(billing, "get_fact", namespace="shared-ops", key="nope")
            after = samples((await scrape()).text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("mcp_memory_tool_calls_total", tool="set_fact", outcome="ok") == 2
    assert delta("mcp_memory_tool_calls_total", tool="get_fact", outcome="error") == 1
    assert delta("mcp_memory_tool_call_duration_seconds_count", tool="set_fact") == 2
    assert delta("mcp_memory_tool_call_duration_seconds_sum", tool="set_fact") > 0
    assert delta("mcp_memory_tool_call_duration_seconds_bucket", tool="set_fact", le="+Inf") == 2
    assert delta("mcp_memory_store_errors_total", error_type="NotFoundError") == 1
    assert value(after, "mcp_memory_open_subscriptions") == 3
    assert value(after, "mcp_memory_tool_calls_in_flight") == 1
    assert value(after, "mcp_memory_embedding_backlog") == 0
    assert value(after, "process_resident_memory_bytes") > 0


async def test_coordination_stats_per_agent_room_and_week(team_settings: Settings) -> None:
    ids = await seed(team_settings)
    async with (
        Client(build_server(team_settings, agent="lead")) as lead,
        Client(build_server(team_settings, agent="triage")) as triage,
    ):
        by_agent = await call(lead, "get_coordination_stats", by="agent")
        by_room = await call(lead, "get_coordination_stats", by="room")
        resource = await lead.read_resource("memory://stats/coordination/week")
        refused = await call_error(triage, "get_coordination_stats")

    rows = {row["key"]: row for row in by_agent["rows"]}
    # The refund task: claimed and done by billing, reopened by the lead, done again (reworked).
    assert rows["billing"]["tasks"] == 1
    assert rows["billing"]["completed"] == 1
    assert rows["billing"]["reworked"] == 1
    assert rows["billing"]["rework_rate"] == 1.0
    assert rows["billing"]["median_completion_seconds"] >= 0
    # triage created the unassigned task, opened the room (now held by billing) and escalated it.
    assert (rows["triage"]["tasks"], rows["triage"]["completed"], rows["triage"]["reworked"]) == (1, 0, 0)
    assert (rows["triage"]["rooms"], rows["triage"]["escalations"]) == (1, 1)
    assert rows["triage"]["escalation_rate"] == 1.0
    assert (rows["billing"]["rooms"], rows["billing"]["escalations"], rows["billing"]["escalation_rate"]) == (
        1,
        0,
        0.0,
    )
    total = by_agent["total"]
    assert (total["tasks"], total["completed"], total["reworked"], total["rooms"], total["escalations"]) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert total["rework_rate"] == 0.5
    assert [row["key"] for row in by_room["rows"]] == [ids["room_id"]]
    weekly = json.loads(resource.contents[0].text)  # type: ignore[union-attr]
    assert [row["key"] for row in weekly["rows"]] == [iso_week(utc_now())]
    assert weekly["total"]["escalation_rate"] == 1.0
    assert "may not use audit tools" in refused


async def test_stats_command_prints_the_table_and_json(tmp_path: Path) -> None:
    config = tmp_path / "team.toml"
    lines = ['data_dir = "data"', "[embedder]", 'provider = "none"']
    for agent, policy in OPERATORS_TEAM.items():
        lines.append(f"[agents.{agent}]")
        lines += [f"{key} = {json.dumps(v)}" for key, v in policy.items()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from mcp_memory.config import load_settings

    await seed(load_settings(config))
    runner = CliRunner()

    async def invoke(*args: str) -> Any:  # the command runs its own event loop: give it a thread
        return await anyio.to_thread.run_sync(lambda: runner.invoke(app, list(args)))

    table = await invoke("stats", "--config", str(config))
    assert table.exit_code == 0, table.output
    assert "billing" in table.output
    assert "100%" in table.output  # billing's rework rate
    weekly = await invoke("stats", "--config", str(config), "--by", "week", "--json")
    assert weekly.exit_code == 0, weekly.output
    as_json: Any = json.loads(weekly.output)
    assert as_json["total"]["tasks"] == 2
    assert as_json["rows"][0]["key"] == iso_week(utc_now())
