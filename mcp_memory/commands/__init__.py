"""CLI commands beyond the core ones in ``mcp_memory/cli.py``, one module per command (or command group).

``register(app)`` adds them to the ``mcp-memory`` Typer app. Each module imports only what its command
needs inside the command, so ``mcp-memory --help`` stays fast.
"""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``inspect``, ``stats`` and the ``config`` group (client configuration blocks) to ``app``."""
    from mcp_memory.commands import client_config, inspect, stats

    app.command(name="inspect")(inspect.inspect)
    app.command(name="stats")(stats.stats)
    app.add_typer(client_config.app, name="config")
