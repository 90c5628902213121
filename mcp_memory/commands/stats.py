"""``mcp-memory stats``: the team's coordination metrics (task completion time, rework, escalations)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from mcp_memory.commands._common import ConfigOption, err, settings_or_exit

__all__ = ["human_seconds", "stats"]


def human_seconds(seconds: float | None) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3.5 h``, ``2.1 d`` (empty for ``None``)."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.0%}"


def stats(
    config: ConfigOption = None,
    by: Annotated[
        Literal["agent", "room", "week"], typer.Option("--by", help="Group by agent, room or ISO week.")
    ] = "agent",
    since: Annotated[
        str | None,
        typer.Option("--since", help="Items created from this time: ISO 8601, or a span back (7d)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Show coordination metrics: task completion time, rework rate and escalation rate."""
    import anyio
    from rich.console import Console
    from rich.table import Column, Table

    from mcp_memory.cli import parse_since
    from mcp_memory.inspector import local_operator
    from mcp_memory.services import open_service
    from mcp_memory.services.coordination import CoordinationStats
    from storage import StorageError

    settings = settings_or_exit(config)
    start = parse_since(since) if since else None

    async def run() -> CoordinationStats:
        async with open_service(settings) as service:
            return await service.coordination.stats(local_operator(), by=by, since=start)

    try:
        report = anyio.run(run)
    except StorageError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    title = f"coordination by {by}" + (f" since {start:%Y-%m-%d %H:%M} UTC" if start else "")
    table = Table(Column(by, no_wrap=True), title=title)
    for header in (
        "tasks",
        "done",
        "median to done",
        "mean",
        "reworked",
        "rework",
        "rooms",
        "esc.",
        "esc. rate",
    ):
        table.add_column(header, justify="right")
    for row in [*report.rows, report.total]:
        table.add_row(
            row.key,
            str(row.tasks),
            str(row.completed),
            human_seconds(row.median_completion_seconds),
            human_seconds(row.mean_completion_seconds),
            str(row.reworked),
            _percent(row.rework_rate),
            str(row.rooms),
            str(row.escalations),
            _percent(row.escalation_rate),
            end_section=row is report.rows[-1] if report.rows else False,
        )
    Console(highlight=False).print(table)
    if report.truncated:
        err.print("[yellow]more items than one report reads: narrow it with --since[/yellow]")
