"""Every CLI command helps itself and is documented in README.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_memory.cli import app

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
    # In a real process: the test session's event loop must not host the CLI's own anyio.run.
    result = subprocess.run(
        [sys.executable, "-m", "mcp_memory", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
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
