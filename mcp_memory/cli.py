"""Command line: ``mcp-memory serve | init | doctor | migrate | audit | prune | reindex`` here, and
``inspect | stats | config | export | import`` from ``mcp_memory.commands``.

The only module besides ``config.py`` that reads the environment (through ``load_settings``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import typer
from rich.console import Console

from mcp_memory import __version__
from mcp_memory.commands import register
from mcp_memory.commands._common import ConfigOption, err, settings_or_exit
from mcp_memory.config import ConfigError, Settings

app = typer.Typer(
    name="mcp-memory",
    help="Shared, persistent memory for teams of LLM agents, served over MCP.",
    no_args_is_help=True,
    add_completion=False,
)
Transport = Literal["stdio", "streamable-http", "sse"]


def _settings(config: Path | None) -> Settings:
    return settings_or_exit(config)


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Shared, persistent memory for teams of LLM agents, served over MCP."""
    if version:
        typer.echo(__version__)
        raise typer.Exit()


@app.command()
def serve(
    config: ConfigOption = None,
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="Agent this stdio session runs as.")
    ] = None,
    transport: Annotated[
        Transport | None, typer.Option("--transport", "-t", help="stdio (default), streamable-http or sse.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Bind address for HTTP transports.")] = None,
    port: Annotated[int | None, typer.Option(help="Port for HTTP transports.")] = None,
) -> None:
    """Run the MCP server (stdio for one local agent; HTTP/SSE for a team)."""
    from mcp_memory.config import redacted_url
    from mcp_memory.server import serve_http
    from mcp_memory.stdio import serve_stdio
    from storage import StorageError

    settings = _settings(config)
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    chosen = transport or settings.server.transport
    if agent is not None and chosen != "stdio":
        err.print(
            f"[red]error:[/red] --agent only applies to stdio, and this server runs {chosen}: over HTTP "
            "every agent authenticates with its own bearer token (agents.<name>.token_env), so the agent "
            f"is the token's. Drop --agent, or pass --transport stdio to run one local session as {agent}.",
            highlight=False,
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    where = f"mcp-memory {__version__}: data {redacted_url(settings.storage_url)}"

    def banner(line: str) -> None:  # one plain line for the human at the terminal (stdout is the protocol)
        print(line, file=sys.stderr, flush=True)

    try:
        if chosen == "stdio":
            who = agent or settings.server.default_agent
            ready = partial(
                banner, f"{where}, agent {who}; waiting for an MCP client on stdio; Ctrl-C to stop"
            )
            anyio.run(partial(serve_stdio, settings, agent=agent, on_ready=ready))
        else:
            listening = lambda url: banner(f"{where}; listening on {url}; Ctrl-C to stop")  # noqa: E731
            anyio.run(partial(serve_http, settings, transport=chosen, on_ready=listening))
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except StorageError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config.")] = Path("mcp-memory.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter config (embedded SQLite under ./data, local embedder, stdio)."""
    if path.exists() and not force:
        err.print(f"[red]error:[/red] {path} exists; pass --force to overwrite")
        raise typer.Exit(1)
    template = resources.files("mcp_memory").joinpath("starter.toml").read_text(encoding="utf-8")
    path.write_text(template, encoding="utf-8")
    typer.echo(f"wrote {path}; start the server with: mcp-memory serve --config {path}")


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check the config, open the store (applying migrations) and print what is active."""
    from mcp_memory.services import open_service

    settings = _settings(config)

    async def run() -> dict[str, object]:
        async with open_service(settings) as service:
            facts = await service.store.describe()
            facts["embedder"] = service.context.embeddings.model
            facts["embedder_status"] = service.context.embeddings.status
            facts["default_agent"] = settings.server.default_agent
            facts["agents"] = sorted(settings.agents)
            return facts

    try:
        facts = anyio.run(run)
    except Exception as exc:  # report any start-up failure plainly, then fail
        err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    typer.echo(json.dumps(facts, indent=2, default=str))


@app.command()
def migrate(config: ConfigOption = None) -> None:
    """Apply pending schema migrations to the configured store and print the schema version."""
    from storage import StorageError, open_store

    settings = _settings(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> int:
        store = await open_store(settings.storage_url)
        try:
            return await store.schema_version()
        finally:
            await store.close()

    try:
        version = anyio.run(run)
    except StorageError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    typer.echo(f"schema version {version}")


_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``--since`` as a UTC time: ISO 8601 (``2026-11-25T10:00``, UTC when no offset) or a span back
    from now (``30m``, ``2h``, ``7d``).

    Raises:
        typer.BadParameter: neither form.
    """
    match = _RELATIVE.match(value.strip())
    if match:
        span = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return (now or datetime.now(UTC)) - span
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter("use ISO 8601 (2026-11-25T10:00) or a span such as 30m, 2h, 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def audit(
    config: ConfigOption = None,
    agent: Annotated[str | None, typer.Option("--agent", "-a", help="Only calls by this agent.")] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="Only this tool name or resource URI.")] = None,
    item: Annotated[str | None, typer.Option("--item", help="Only calls that touched this id.")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Only failed calls.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="From this time: ISO 8601, or a span back (30m, 2h, 7d).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="At most this many rows.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """Show the audit log (who called which tool or read which resource), newest first."""
    from rich.table import Table

    from storage import AuditFilter, AuditOutcome, StorageError, open_store

    settings = _settings(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    filters = AuditFilter(
        agent=agent,
        name=tool,
        item_id=item,
        outcome=AuditOutcome.ERROR if errors else None,
        since=parse_since(since) if since else None,
    )

    async def run() -> list[Any]:
        store = await open_store(settings.storage_url)
        try:
            return (await store.list_audit(filters, limit=limit)).items
        finally:
            await store.close()

    try:
        records = anyio.run(run)
    except StorageError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    if as_json:
        for record in records:
            typer.echo(record.model_dump_json())
        return
    table = Table("seq", "at (UTC)", "agent", "kind", "tool / resource", "ids", "outcome", "ms")
    for r in records:
        outcome = "ok" if r.error_type is None else f"[red]{r.error_type}[/red]"
        ids = ", ".join(r.ids[:4]) + (f" +{len(r.ids) - 4}" if len(r.ids) > 4 else "")
        at = r.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(r.seq), at, r.agent, r.kind, r.name, ids, outcome, f"{r.duration_ms:.1f}")
    Console().print(table)


@app.command()
def prune(
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what the retention rules would remove.")
    ] = False,
) -> None:
    """Apply the \\[retention] rules now: remove expired memories and those beyond max_memories."""
    from rich.progress import Progress
    from rich.table import Table

    from mcp_memory.services import open_service
    from mcp_memory.services.retention import PruneReport
    from storage import StorageError

    settings = _settings(config)
    if not settings.retention:
        err.print("[yellow]no \\[retention] rules in the config: nothing to prune[/yellow]")
        raise typer.Exit(0)

    async def run() -> PruneReport:
        async with open_service(settings) as service:
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("pruning namespaces", total=None)

                def progress(namespace: str, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, description=f"pruned {namespace}")

                return await service.retention.prune(dry_run=dry_run, by="cli", progress=progress)

    try:
        report = anyio.run(run)
    except StorageError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    out = Console()
    table = Table("namespace", "rule", "before", "expired", "over limit")
    for item in report.namespaces:
        table.add_row(
            item.namespace, item.rule, str(item.memories_before), str(item.expired), str(item.over_limit)
        )
    if report.namespaces:
        out.print(table)
    verb = "would remove" if dry_run else "removed"
    out.print(f"{verb} {report.pruned} memories in {len(report.namespaces)} namespaces")


@app.command()
def reindex(
    config: ConfigOption = None,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, max=1000, help="Items per embedder call and per transaction."),
    ] = 64,
) -> None:
    """Re-embed every memory and event with the configured embedder (resumable; atomic switch)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from mcp_memory.embeddings import EmbedderUnavailableError, make_embedder
    from mcp_memory.services import open_configured_store
    from mcp_memory.services.reindex import ReindexReport
    from mcp_memory.services.reindex import reindex as reindex_store
    from mcp_memory.services.sealing import ContentSealer
    from storage import StorageError

    settings = _settings(config)
    if settings.embedder.provider == "none":
        err.print('[red]error:[/red] embedder.provider is "none": configure the embedder to re-embed with')
        raise typer.Exit(2)

    async def run() -> ReindexReport:
        embedder = make_embedder(settings.embedder.provider, **settings.embedder.provider_options())
        assert embedder is not None
        store = await open_configured_store(settings)
        sealer = ContentSealer.from_settings(settings)
        columns = (
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        try:
            await sealer.bind(store)  # a wrong encryption_key is refused before anything is staged
            with Progress(*columns, console=err, transient=False) as bar:
                task = bar.add_task(f"re-embedding with {embedder.name}", total=None)
                return await reindex_store(
                    store,
                    embedder,
                    sealer=sealer,
                    batch_size=batch_size,
                    progress=lambda staged, items: bar.update(task, completed=staged, total=items),
                )
        finally:
            await embedder.aclose()
            await store.close()

    try:
        report = anyio.run(run)
    except (StorageError, EmbedderUnavailableError, ConfigError) as exc:
        message = exc.message if isinstance(exc, StorageError) else str(exc)
        err.print(f"[red]error:[/red] {message}")
        err.print("vectors staged so far are kept: run the same command again to resume")
        raise typer.Exit(1) from None
    previous = (
        f"{report.previous_model!r} ({report.previous_dimensions} dims)"
        if report.previous_model
        else "no model"
    )
    resumed = f" ({report.resumed} resumed from an earlier run)" if report.resumed else ""
    typer.echo(
        f"reindexed {report.items} items: {previous} -> {report.model!r} ({report.dimensions} dims) "
        f"in {report.seconds:.1f} s{resumed}"
    )


register(app)
