"""Every CLI command helps itself and is documented in README.md."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import anyio
import pytest
from mcp import Client
from typer.testing import CliRunner

from mcp_memory.cli import app
from mcp_memory.config import load_settings
from mcp_memory.server import build_server
from tests.cli_runner import in_thread, invoke

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def command_names() -> list[str]:
    from typer.main import get_command

    return sorted(get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help_and_is_documented(name: str) -> None:
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert f"mcp-memory {name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_init_writes_a_config_that_doctor_accepts(tmp_path: Path) -> None:
    config = tmp_path / "team.toml"
    assert runner.invoke(app, ["init", str(config)]).exit_code == 0
    assert runner.invoke(app, ["init", str(config)]).exit_code == 1  # refuses to overwrite
    config.write_text(config.read_text().replace('provider = "local"', 'provider = "none"'))
    result = invoke("doctor", "--config", str(config))
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts["backend"] == "sqlite"
    assert facts["embedder"] == "none"
    assert (tmp_path / "data" / "memory.db").exists()


def test_a_bad_config_fails_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[storage]\nbusy_timeout_seconds = -1\n")
    result = runner.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 2
    assert "storage.busy_timeout_seconds" in result.output


def test_audit_shows_the_calls_of_a_session_and_filters_them(tmp_path: Path) -> None:
    """An MCP session writes the log; ``mcp-memory audit`` prints it."""
    from mcp_memory.cli import parse_since

    config = tmp_path / "team.toml"
    config.write_text('data_dir = "data"\n[embedder]\nprovider = "none"\n')

    async def session() -> None:
        async with Client(build_server(load_settings(config), agent="billing")) as client:
            await client.call_tool("create_room", {"room_id": "room-cli-1"})
            await client.call_tool("list_events", {"room_id": "room-missing"})

    in_thread(partial(anyio.run, session))

    def audit(*args: str) -> list[dict[str, object]]:
        result = invoke("audit", "--config", str(config), "--json", *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    everything = audit()
    assert [(r["agent"], r["name"], r["outcome"]) for r in everything] == [
        ("billing", "list_events", "error"),
        ("billing", "create_room", "ok"),
    ]
    assert [r["name"] for r in audit("--errors")] == ["list_events"]
    assert [r["name"] for r in audit("--item", "room-cli-1")] == ["create_room"]
    assert audit("--agent", "triage") == []
    assert len(audit("--since", "1h", "--limit", "1")) == 1
    table = invoke("audit", "--config", str(config), env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "create_room" in table.stdout
    assert "NotFoundError" in table.stdout
    assert parse_since("2026-11-25T10:00").isoformat() == "2026-11-25T10:00:00+00:00"
