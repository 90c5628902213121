"""The ``export`` and ``import`` commands, registered on the CLI's typer app by ``register``.

Kept out of ``mcp_memory/cli.py`` so that module stays small; the work is in ``commands``. This module
deliberately has no ``from __future__ import annotations``: typer reads the parameters' annotations, and
``ConfigOption`` is a value handed in by ``cli.py``.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

__all__ = ["register"]

PortFormat = Literal["jsonl", "markdown"]


def register(
    app: typer.Typer, settings_of: Callable[[Path | None], Any], config_option: Any, err: Console
) -> None:
    """Add ``export`` and ``import`` to ``app``.

    Args:
        app: the CLI's typer app.
        settings_of: ``cli._settings`` (loads the config, exits 2 on a config error).
        config_option: the ``--config`` option type (``cli.ConfigOption``).
        err: the stderr console.
    """

    @app.command()
    def export(
        config: config_option = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="File (JSON Lines) or folder (Markdown). Default: stdout."),
        ] = None,
        form: Annotated[
            PortFormat, typer.Option("--format", "-f", help="jsonl (full fidelity) or markdown.")
        ] = "jsonl",
        namespace: Annotated[
            list[str] | None,
            typer.Option("--namespace", "-n", help="Only these namespaces (patterns such as shared-*)."),
        ] = None,
        no_vectors: Annotated[
            bool, typer.Option("--no-vectors", help="Leave embeddings out (the import re-embeds).")
        ] = False,
        plain: Annotated[
            bool, typer.Option("--plain", help="Open confidential content with the tenant's encryption_key.")
        ] = False,
    ) -> None:
        """Export the tenant as JSON Lines (every table, any backend to any backend) or Markdown files."""
        from mcp_memory.portability.commands import run_export

        settings = settings_of(config)
        _run(
            err,
            lambda: run_export(
                settings,
                output,
                form=form,
                patterns=namespace or [],
                vectors=not no_vectors,
                plain=plain,
                console=err,
            ),
        )

    @app.command("import")
    def import_(
        source: Annotated[
            Path | None,
            typer.Argument(help="Export file, or a Markdown folder. Default: stdin (JSON Lines)."),
        ] = None,
        config: config_option = None,
        form: Annotated[
            PortFormat | None,
            typer.Option("--format", "-f", help="jsonl or markdown (default: markdown for a folder)."),
        ] = None,
        agent: Annotated[
            str | None, typer.Option("--agent", "-a", help="Markdown: the agent the edits are written as.")
        ] = None,
        no_reembed: Annotated[
            bool, typer.Option("--no-reembed", help="Do not re-embed an export made without vectors.")
        ] = False,
    ) -> None:
        """Import an export into the tenant (idempotent); a Markdown folder applies its edits."""
        from mcp_memory.portability.commands import import_format, run_import

        settings = settings_of(config)
        _run(
            err,
            lambda: run_import(
                settings,
                source,
                form=import_format(source, form),
                agent=agent,
                reembed=not no_reembed,
                console=err,
            ),
        )


def _run(err: Console, run: Callable[[], Awaitable[str]]) -> None:
    """Run an export or import; print its summary, or its error and exit (2: config, 1: otherwise)."""
    import anyio
    from rich.markup import escape

    from mcp_memory.config import ConfigError
    from mcp_memory.crypto import CipherError
    from mcp_memory.embeddings import EmbedderUnavailableError
    from mcp_memory.portability.jsonl import FormatError
    from mcp_memory.portability.markdown_files import MarkdownError
    from storage import StorageError

    try:
        summary = anyio.run(run)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except (FormatError, MarkdownError, CipherError, EmbedderUnavailableError, OSError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except StorageError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from None
    err.print(summary, markup=False)
