"""Retention and decay from the team config, through real MCP sessions on SQLite and PostgreSQL, the
background pruner of a running server, and ``mcp-memory prune``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_memory.server import build_server
from mcp_memory.services import open_service
from storage.models import AuditFilter, AuditOutcome, MemoryFilter
from tests.cli_runner import run_cli
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.team import pg_server_or_none, team, team_settings
from tests.mcp_memory.test_tools import call, call_error

__all__ = ["pg_server_or_none", "team", "team_settings"]  # fixtures used by the tests below

pytestmark = pytest.mark.anyio

RETENTION = {
    "shared-scratch": {"max_memories": 2},
    "shared-news*": {"decay": "exponential", "half_life_hours": 1e-8},
    "agent-*": {"max_memories": 0},
}


@pytest.fixture
def team_overrides() -> dict[str, Any]:
    return {"retention": RETENTION, "pruning": {"interval_seconds": 0}}


async def test_prune_memories_applies_the_rules_to_writable_namespaces(team: dict[str, Client]) -> None:
    lead, billing, intern = team["lead"], team["billing"], team["intern"]
    ids = []
    for n, importance in enumerate([0.2, 0.9, 0.1, 0.5]):
        memory = await call(
            lead, "remember", content=f"scratch note {n}", namespace="shared-scratch", importance=importance
        )
        ids.append(memory["memory_id"])
    private = await call(lead, "remember", content="lead's own note")

    preview = await call(billing, "prune_memories")
    assert preview["dry_run"] is True
    assert [(n["namespace"], n["over_limit"], n["memory_ids"]) for n in preview["namespaces"]] == [
        ("shared-scratch", 2, [ids[2], ids[0]])
    ]  # agent-lead matches agent-* but billing may not write it
    before = await call(lead, "search_memory", query="scratch note", namespaces=["shared-scratch"])
    assert len(before["results"]) == 4

    done = await call(billing, "prune_memories", dry_run=False)
    assert done["pruned"] == 2
    left = await call(lead, "search_memory", query="scratch note", namespaces=["shared-scratch"])
    assert sorted(r["id"] for r in left["results"]) == sorted([ids[1], ids[3]])
    mine = await call(lead, "search_memory", query="own note", namespaces=["agent-lead"])
    assert [r["id"] for r in mine["results"]] == [private["memory_id"]]

    own = await call(lead, "prune_memories", dry_run=False)
    assert [(n["namespace"], n["memory_ids"]) for n in own["namespaces"]] == [
        ("agent-lead", [private["memory_id"]])
    ]
    assert "retention tools" in await call_error(intern, "prune_memories")


async def test_namespace_decay_from_config_lowers_old_memories_in_search(team: dict[str, Client]) -> None:
    lead = team["lead"]
    fading = await call(lead, "remember", content="acme pricing update", namespace="shared-news-eu")
    lasting = await call(lead, "remember", content="acme pricing update", namespace="shared-policy")
    results = (await call(lead, "search_memory", query="acme pricing"))["results"]
    assert [r["id"] for r in results] == [lasting["memory_id"], fading["memory_id"]]
    assert (
        results[1]["score"] < results[0]["score"] / 100
    )  # a half-life of 36 microseconds: ~28 of them per millisecond of age


async def test_a_running_server_prunes_in_the_background(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, retention={"shared-scratch": {"max_memories": 1}}, pruning={"interval_seconds": 0.05}
    )
    async with Client(build_server(settings, agent="lead")) as client:
        for n in range(3):
            await call(client, "remember", content=f"scratch {n}", namespace="shared-scratch")
        left = 3
        with anyio.fail_after(10):
            for _ in range(200):  # bounded by the fail_after: the pruner runs every 50 ms
                left = len((await call(client, "search_memory", query="scratch"))["results"])
                if left == 1:
                    break
                await anyio.sleep(0.05)
        assert left == 1
    async with open_service(settings) as service:
        audited = await service.store.list_audit(AuditFilter(name="prune_memories"))
    removed = [r for r in audited.items if r.ids]
    assert removed, "a background run that removed memories left no audit record"
    assert {r.agent for r in audited.items} == {"retention (background)"}
    assert sum(len(r.ids) for r in removed) == 2


async def test_cli_prune_reports_then_removes(tmp_path: Path) -> None:
    config = tmp_path / "team.toml"
    config.write_text(
        '[embedder]\nprovider = "none"\n\n[retention."shared-*"]\nmax_memories = 1\nttl_days = 30\n',
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "data", retention={"shared-*": {"max_memories": 1}})
    async with open_service(settings) as service:
        me = service.principal("lead")
        for n in range(3):
            await service.memories.remember(me, f"note {n}", namespace="shared-team")

    async def prune(*flags: str) -> str:
        result = await run_cli("prune", "--config", str(config), *flags)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "would remove 2 memories in 1 namespaces" in await prune("--dry-run")
    assert "removed 2 memories in 1 namespaces" in await prune()
    async with open_service(settings) as service:
        page = await service.store.list_memories(MemoryFilter(namespaces=["shared-team"]))
        assert [m.content for m in page.items] == ["note 2"]
        audited = await service.store.list_audit(AuditFilter(name="prune_memories"))
    # The dry run deletes nothing and is not audited; the real run is, with the two ids it removed.
    assert len(audited.items) == 1
    record = audited.items[0]
    assert (record.agent, record.outcome, len(record.ids)) == ("cli", AuditOutcome.OK, 2)
