"""What a newcomer meets first: a banner line on stderr, the config `init` wrote found without --config,
a Claude Desktop block that works with a bare PATH, a clear error for --agent over HTTP, help text that
keeps ``[retention]``, and the support-team config's rooms landing in a namespace its agents may write.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from mcp_memory import __version__
from tests.cli_runner import invoke

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "configs" / "support-team.toml"
#: Bound on a server process's start (imports, migrations) on a loaded machine.
STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment like Claude Desktop's: a bare PATH, no tokens; this checkout importable."""
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), **extra}


def _stderr_line(proc: subprocess.Popen[str], containing: str) -> str:
    """The first stderr line holding ``containing`` (fails after ``STARTUP_SECONDS`` or on exit)."""
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if ready:
            line = proc.stderr.readline()
            if not line:
                raise AssertionError(f"server exited; stderr: {''.join(seen)}")
            seen.append(line)
            if containing in line:
                return line
    raise AssertionError(f"no line with {containing!r} on stderr in {STARTUP_SECONDS} s: {''.join(seen)}")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.mark.slow
def test_stdio_serve_writes_one_banner_line_to_stderr(tmp_path: Path) -> None:
    config = tmp_path / "mcp-memory.toml"
    config.write_text('data_dir = "data"\n[embedder]\nprovider = "none"\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "mcp_memory", "serve", "--config", str(config), "--agent", "triage"]
    proc = subprocess.Popen(
        cmd,
        env=_bare_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _stderr_line(proc, "waiting for an MCP client")
    finally:
        _stop(proc)
    assert line.strip() == (
        f"mcp-memory {__version__}: data {tmp_path / 'data' / 'memory.db'}, agent triage; "
        "waiting for an MCP client on stdio; Ctrl-C to stop"
    )


@pytest.mark.slow
def test_http_serve_logs_the_url_it_listens_on(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "team.toml"
    config.write_text(
        'data_dir = "data"\n[embedder]\nprovider = "none"\n[server]\ntransport = "streamable-http"\n'
        f'port = {port}\n[agents.lead]\ntoken_sha256 = "{"0" * 64}"\n',
        encoding="utf-8",
    )
    cmd = [sys.executable, "-m", "mcp_memory", "serve", "--config", str(config)]
    proc = subprocess.Popen(
        cmd, env=_bare_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        line = _stderr_line(proc, "listening on")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the line comes once the socket listens
    finally:
        _stop(proc)
    assert f"listening on http://127.0.0.1:{port}/mcp; Ctrl-C to stop" in line


def test_agent_on_an_http_config_is_an_error_that_says_why() -> None:
    result = invoke(*["serve", "--config", str(SUPPORT), "--agent", "triage"])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "--agent only applies to stdio" in message
    assert "bearer token" in message
    assert "--transport stdio" in message


@pytest.mark.slow
@pytest.mark.anyio
async def test_stdio_on_the_team_config_needs_no_tokens_and_rooms_land_in_the_agents_namespace(
    tmp_path: Path,
) -> None:
    env = _bare_env(
        tmp_path, MCP_MEMORY_DATA_DIR=str(tmp_path / "support"), MCP_MEMORY_EMBEDDER__PROVIDER="none"
    )
    args = [
        "-m",
        "mcp_memory",
        "serve",
        "--config",
        str(SUPPORT),
        "--transport",
        "stdio",
        "--agent",
        "triage",
    ]
    with anyio.fail_after(STARTUP_SECONDS):
        async with Client(StdioServerParameters(command=sys.executable, args=args, env=env)) as triage:
            room = await triage.call_tool("create_room", {"name": "case 7"})
    assert not room.is_error, room.content
    assert room.structured_content is not None
    assert room.structured_content["namespace"] == "rooms-support"


def test_doctor_finds_the_config_that_init_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MCP_MEMORY_CONFIG", raising=False)
    assert invoke(*["init"]).exit_code == 0
    written = Path("mcp-memory.toml")
    text = written.read_text(encoding="utf-8").replace('data_dir = "./data"', 'data_dir = "./store"')
    written.write_text(text.replace('provider = "local"', 'provider = "none"'), encoding="utf-8")
    result = invoke(*["doctor"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["path"] == str(tmp_path.resolve() / "store" / "memory.db")
    assert facts["embedder"] == "none"
    assert not (tmp_path / "data").exists()


def test_prune_help_and_dry_run_keep_retention_literal(tmp_path: Path) -> None:
    helped = invoke(*["prune", "--help"])
    assert "Apply the [retention] rules now" in " ".join(helped.output.split())
    config = tmp_path / "team.toml"
    config.write_text('data_dir = "data"\n[embedder]\nprovider = "none"\n', encoding="utf-8")
    dry = invoke(*["prune", "--config", str(config), "--dry-run"])
    assert dry.exit_code == 0
    assert "no [retention] rules in the config" in dry.output


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_claude_desktop_block_starts_a_working_server_with_a_bare_path(tmp_path: Path) -> None:
    config = tmp_path / "mcp-memory.toml"
    config.write_text('data_dir = "data"\n[embedder]\nprovider = "none"\n', encoding="utf-8")
    printed = invoke(*["config", "claude-desktop", "--config", str(config), "--agent", "triage"])
    assert printed.exit_code == 0, printed.output
    entry = json.loads(printed.output)["mcpServers"]["memory"]
    assert Path(entry["command"]).is_absolute()
    assert str(config.resolve()) in entry["args"]
    # Claude Desktop's environment: a bare PATH, another working directory.
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env=_bare_env(tmp_path), cwd=str(Path("/"))
    )
    with anyio.fail_after(STARTUP_SECONDS):
        async with Client(params) as client:
            room = await client.call_tool("create_room", {"name": "from Claude Desktop"})
    assert not room.is_error, room.content
    assert (tmp_path / "data" / "memory.db").is_file()
    assert os.path.isabs(entry["command"])


@pytest.mark.slow
def test_the_support_team_example_tells_its_story(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "support_team.py"),
            "--embedder",
            "local",
            "--data-dir",
            str(tmp_path),
        ],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("MCP_MEMORY_")},
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS * 2,
    )
    assert done.returncode == 0, done.stderr
    story = " ".join(done.stdout.split())
    assert "Handed the conversation to technical (handoff 1 of this room" in story
    assert "Handed the conversation to billing (handoff 2 of this room" in story
    # Ranks instead of raw fused scores, and whole contents.
    assert re.search(r"1\. (observation by triage|decision by technical): ", story)
    assert re.search(r"2\. (observation by triage|decision by technical): ", story)
    assert "the logouts come from the session token being revoked on payment failure." in story
    assert "is already claimed by billing" in story
    assert "[supervisor] Read the handoff package" in story
    assert "Resolved the escalation (resolved)" in story
    assert "0.0" not in story  # no raw fused scores
