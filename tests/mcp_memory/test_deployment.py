"""Config-driven deployment: the shipped team config, bad configs failing at start, isolated tenants."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from mcp_memory.config import ConfigError, load_settings
from mcp_memory.services import open_service
from storage import AuditFilter, NotFoundError
from storage.models import MemoryFilter, SearchRequest, Sensitivity
from tests.cli_runner import invoke
from tests.mcp_memory.conftest import make_settings

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "configs" / "support-team.toml"
AGENTS = ("triage", "technical", "billing", "supervisor")


@pytest.fixture
def support_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for agent in AGENTS:
        monkeypatch.setenv(f"MCP_MEMORY_TOKEN_{agent.upper()}", f"token-of-{agent}")


@pytest.mark.usefixtures("support_tokens")
def test_the_support_team_config_loads_with_four_principals_and_tokens_from_env() -> None:
    settings = load_settings(SUPPORT)

    assert settings.tenant == "support"
    assert settings.server.transport == "streamable-http"
    assert sorted(settings.token_digests().values()) == sorted(AGENTS)
    supervisor, triage = settings.policy_for("supervisor"), settings.policy_for("triage")
    assert "audit" in supervisor.tool_groups
    assert supervisor.may_resolve_escalations
    assert "audit" not in triage.tool_groups
    assert not triage.may_resolve_escalations
    assert triage.may_escalate
    assert settings.policy_for("billing").clearance is Sensitivity.CONFIDENTIAL
    assert settings.policy_for("technical").clearance is Sensitivity.INTERNAL
    stranger = settings.policy_for("stranger")
    assert (stranger.read_namespaces, stranger.tool_groups, stranger.may_escalate) == ([], [], False)
    raw = tomllib.loads(SUPPORT.read_text())
    assert all(set(agent) & {"token_env", "token_sha256"} for agent in raw["agents"].values())
    assert not [name for name, agent in raw["agents"].items() if "token" in agent]  # never in plain text


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        ('[agents.billing]\ntool_groups = ["memories", "payments"]\n', "agents.billing.tool_groups"),
        ('[agents.billing]\nread_namespaces = ["Shared-*"]\n', "agents.billing.read_namespaces"),
        ('[agents.billing]\nclearance = "secret"\n', "agents.billing.clearance"),
        ('[agents.billing]\ntoken_env = "lower_case"\n', "agents.billing.token_env"),
        ('[agents.billing]\nmay_escalate = "sometimes"\n', "agents.billing.may_escalate"),
        ('encryption_key = "too-short"\n', "encryption_key"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[storage]\npool_min_size = 0\n", "storage.pool_min_size"),
    ],
)
def test_a_bad_config_fails_at_start_naming_the_key(tmp_path: Path, snippet: str, key: str) -> None:
    config = tmp_path / "team.toml"
    config.write_text(snippet)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert key in str(info.value)


def test_serving_the_team_over_http_without_its_tokens_fails_at_start_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("MCP_MEMORY_TOKEN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MCP_MEMORY_DATA_DIR", str(tmp_path))
    result = invoke("serve", "--config", str(SUPPORT), "--port", "1")
    assert result.exit_code == 2, result.output
    assert "token_env" in result.stderr
    assert "MCP_MEMORY_TOKEN_" in result.stderr


async def test_two_tenants_are_isolated_in_their_own_databases(
    tmp_path: Path, storage_url_factory: Callable[[], Awaitable[str]]
) -> None:
    """One config = one tenant = one database: nothing written in one is visible in the other."""
    url_a, url_b = await storage_url_factory(), await storage_url_factory()
    tenant_a = make_settings(tmp_path / "a", tenant="acme", storage={"url": url_a})
    tenant_b = make_settings(tmp_path / "b", tenant="globex", storage={"url": url_b})

    async with open_service(tenant_a) as a:
        me = a.principal("triage")
        room = await a.rooms.create_room(me, room_id="room-shared-name")
        await a.events.store_event(me, room.room_id, "zqacmex order 77 is late")
        memory = await a.memories.remember(me, "zqacmex prefers phone calls", namespace="shared-customers")
    async with open_service(tenant_b) as b:
        me = b.principal("triage")
        with pytest.raises(NotFoundError):
            await b.rooms.get_room(me, "room-shared-name")
        with pytest.raises(NotFoundError):
            await b.memories.get_memory(me, memory.memory_id)
        hits = await b.memories.search(me, SearchRequest(query="zqacmex", include_events=True))
        assert hits.results == []
        assert (await b.rooms.list_rooms(me)).rooms == []
        assert (await b.memories.list_memories(me, MemoryFilter())).memories == []
        # Same room id in the other tenant is a different room.
        other = await b.rooms.create_room(me, room_id="room-shared-name")
        assert other.last_event_index == 0
        # Each tenant has its own audit log: b's holds b's calls only.
        b_log = (await b.store.list_audit(AuditFilter())).items
        assert [r.name for r in reversed(b_log)] == [
            "rooms.get_room",
            "memories.get_memory",
            "memories.search",
            "rooms.list_rooms",
            "memories.list_memories",
            "rooms.create_room",
        ]
    async with open_service(tenant_a) as a:
        me = a.principal("triage")
        a_log = (await a.store.list_audit(AuditFilter())).items
        assert [r.name for r in reversed(a_log)] == [
            "rooms.create_room",
            "events.store_event",
            "memories.remember",
        ]
        assert (await a.rooms.get_room(me, "room-shared-name")).last_event_index == 1
        assert [h.id for h in (await a.memories.search(me, SearchRequest(query="zqacmex"))).results] == [
            memory.memory_id
        ]
