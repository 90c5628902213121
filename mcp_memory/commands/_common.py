"""What the CLI's commands share: the error console, the ``--config`` option and loading settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mcp_memory.config import ConfigError, Settings, find_config, load_settings

__all__ = ["ConfigOption", "err", "settings_or_exit"]

#: Messages for the human at the terminal (stderr; stdout stays for data).
#: Errors: one line each, never wrapped at the terminal width (a log collector sees one record per failure).
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Team config (TOML). Default: $MCP_MEMORY_CONFIG, else ./mcp-memory.toml when present, "
        "else built-in defaults.",
    ),
]


def settings_or_exit(config: Path | None) -> Settings:
    """Load ``config`` (or the one ``find_config`` finds); print the error and exit 2 when it is invalid."""
    try:
        return load_settings(config or find_config())
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
