"""``mcp-memory config ...``: print configuration blocks for MCP clients.

Claude Desktop starts stdio servers with a bare ``PATH`` (a ``"command": "mcp-memory"`` fails there with
``FileNotFoundError``), and from a working directory of its own: the block therefore names this very
Python interpreter (``sys.executable``) and the config by absolute path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mcp_memory.commands._common import ConfigOption, err, settings_or_exit

__all__ = ["app", "claude_desktop_block"]

app = typer.Typer(help="Print configuration for MCP clients.", no_args_is_help=True)


def claude_desktop_block(
    config: Path | None, *, agent: str | None, name: str, transport: str, data_dir: Path
) -> dict[str, Any]:
    """The ``mcpServers`` entry that starts ``mcp-memory serve`` over stdio with absolute paths.

    Args:
        config: the config file (made absolute), or ``None`` for built-in defaults on ``data_dir``.
        agent: the agent the session runs as (``None``: the config's ``server.default_agent``).
        name: the server's key in ``mcpServers``.
        transport: the config's transport (an HTTP config gets ``--transport stdio``).
        data_dir: the data dir, used (absolute) when there is no config file.
    """
    args = ["-m", "mcp_memory", "serve"]
    entry: dict[str, Any] = {"command": sys.executable, "args": args}
    if config is not None:
        args += ["--config", str(config.resolve())]
    else:
        entry["env"] = {"MCP_MEMORY_DATA_DIR": str(data_dir.resolve())}
    if transport != "stdio":
        args += ["--transport", "stdio"]
    if agent is not None:
        args += ["--agent", agent]
    return {"mcpServers": {name: entry}}


@app.command("claude-desktop")
def claude_desktop(
    config: ConfigOption = None,
    agent: Annotated[str | None, typer.Option("--agent", "-a", help="Agent the session runs as.")] = None,
    name: Annotated[str, typer.Option("--name", help="The server's name in mcpServers.")] = "memory",
) -> None:
    """Print a Claude Desktop block (claude_desktop_config.json) that starts this server over stdio."""
    from mcp_memory.config import find_config

    path = config or find_config()
    settings = settings_or_exit(path)
    if agent is not None and agent not in settings.agents and settings.agents:
        err.print(f"[yellow]note:[/yellow] agent {agent!r} is not in the config: it gets default_policy")
    if path is None:
        err.print(
            "[yellow]note:[/yellow] no config file (./mcp-memory.toml or --config): the block runs the "
            f"built-in defaults on {settings.data_dir.resolve()}; `mcp-memory init` writes a config"
        )
    block = claude_desktop_block(
        path, agent=agent, name=name, transport=settings.server.transport, data_dir=settings.data_dir
    )
    typer.echo(json.dumps(block, indent=2))
