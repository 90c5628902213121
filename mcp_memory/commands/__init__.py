"""CLI commands beyond the core ones in ``mcp_memory/cli.py``, one module per command (or command group).

``register(app)`` adds them to the ``mcp-memory`` Typer app. Each module imports only what its command
needs inside the command, so ``mcp-memory --help`` stays fast.
"""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``inspect``, ``stats``, ``export``, ``import`` and the ``config`` group to ``app``."""
    from mcp_memory.commands import client_config, inspect, stats
    from mcp_memory.commands._common import ConfigOption, err, settings_or_exit
    from mcp_memory.portability import cli as portability

    app.command(name="inspect")(inspect.inspect)
    app.command(name="stats")(stats.stats)
    app.add_typer(client_config.app, name="config")
    portability.register(app, settings_or_exit, ConfigOption, err)
