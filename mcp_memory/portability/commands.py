"""``mcp-memory export`` and ``mcp-memory import``: the work behind the two commands of ``cli.py``.

Each opens the configured store (one tenant: one config, one database), shows rich progress bars on
stderr (stdout may carry the export itself) and returns a one-line summary.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from mcp_memory.config import ConfigError, Settings
from mcp_memory.crypto import CipherError, ContentCipher
from mcp_memory.portability.jsonl import export_jsonl, import_jsonl
from mcp_memory.portability.markdown import export_markdown, import_markdown

if TYPE_CHECKING:
    from storage import MemoryStore

__all__ = ["Format", "import_format", "run_export", "run_import"]

Format = Literal["jsonl", "markdown"]


def _cipher(settings: Settings) -> ContentCipher | None:
    if settings.encryption_key is None:
        return None
    try:
        return ContentCipher(settings.encryption_key.get_secret_value())
    except CipherError as exc:
        raise ConfigError(f"encryption_key: {exc}") from None


class _Bars:
    """One progress line per table (or per folder), on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, name: str, done: int) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=None)
        self._progress.update(self._tasks[name], completed=done, description=f"{name}: {done}")


@contextmanager
def _bars(console: Console) -> Iterator[_Bars]:
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield _Bars(progress)


async def run_export(
    settings: Settings,
    output: Path | None,
    *,
    form: Format,
    patterns: list[str],
    vectors: bool,
    plain: bool,
    console: Console,
) -> str:
    """Export the configured tenant to ``output`` (stdout when ``None``, JSON Lines only).

    Raises:
        ConfigError: ``plain`` without an ``encryption_key``; Markdown without an output folder.
        CipherError: the key cannot open the tenant's sealed content.
        StorageError, OSError: the store or the output failed.
    """
    from mcp_memory.services import open_configured_store

    cipher = _cipher(settings) if plain else None
    if plain and cipher is None:
        raise ConfigError(
            "--plain opens confidential content with the tenant's key: set MCP_MEMORY_ENCRYPTION_KEY"
        )
    if form == "markdown" and output is None:
        raise ConfigError("a Markdown export needs a folder: pass --output DIR")
    store = await open_configured_store(settings)
    try:
        with _bars(console) as bars:
            if form == "markdown":
                assert output is not None
                md = await export_markdown(
                    store, output, patterns=patterns, plain_cipher=cipher, progress=bars
                )
                return f"wrote {md.memories} memory files and {md.fact_files} facts files under {output}"
            if output is None:
                report = await export_jsonl(
                    store,
                    sys.stdout.write,
                    patterns=patterns,
                    vectors=vectors,
                    plain_cipher=cipher,
                    progress=bars,
                )
            else:
                with output.open("w", encoding="utf-8") as file:
                    report = await export_jsonl(
                        store,
                        file.write,
                        patterns=patterns,
                        vectors=vectors,
                        plain_cipher=cipher,
                        progress=bars,
                    )
    finally:
        await store.close()
    total = sum(report.rows.values())
    return f"exported {total} rows of {len(report.rows)} tables in {report.seconds:.1f} s"


def import_format(source: Path | None, form: Format | None) -> Format:
    """The format of an import: as given, else Markdown for a folder and JSON Lines otherwise.

    Raises:
        ConfigError: Markdown but ``source`` is not a folder.
    """
    chosen: Format = form or ("markdown" if source is not None and source.is_dir() else "jsonl")
    if chosen == "markdown" and (source is None or not source.is_dir()):
        raise ConfigError("a Markdown import reads a folder: pass its path")
    return chosen


async def run_import(
    settings: Settings,
    source: Path | None,
    *,
    form: Format,
    agent: str | None,
    reembed: bool,
    console: Console,
) -> str:
    """Import ``source`` (stdin when ``None``; a folder is a Markdown export) into the configured tenant.

    A JSON Lines export without vectors is re-embedded with the configured embedder afterwards (unless
    ``reembed`` is off or the embedder is ``none``).

    Raises:
        FormatError, MarkdownError: the input cannot be imported.
        ConfigError, StorageError, EmbedderUnavailableError, OSError.
    """
    if form == "markdown":
        assert source is not None
        return await _import_markdown(settings, source, agent or settings.server.default_agent, console)
    from mcp_memory.services import open_configured_store

    store = await open_configured_store(settings)
    try:
        with _bars(console) as bars:
            if source is None:
                report = await import_jsonl(store, sys.stdin, cipher=_cipher(settings), progress=bars)
            else:
                with source.open(encoding="utf-8") as file:
                    report = await import_jsonl(store, file, cipher=_cipher(settings), progress=bars)
        summary = (
            f"imported {sum(report.inserted.values())} new rows of {sum(report.read.values())} read "
            f"in {report.seconds:.1f} s"
        )
        if not report.vectors:
            summary += "; " + await _reembed(settings, store, reembed, console)
    finally:
        await store.close()
    return summary


async def _reembed(settings: Settings, store: MemoryStore, reembed: bool, console: Console) -> str:
    from mcp_memory.embeddings import make_embedder
    from mcp_memory.services.reindex import reindex
    from mcp_memory.services.sealing import ContentSealer

    if not reembed or settings.embedder.provider == "none":
        return "the export had no vectors: run mcp-memory reindex to make them"
    embedder = make_embedder(settings.embedder.provider, **settings.embedder.provider_options())
    assert embedder is not None
    try:
        with _bars(console) as bars:
            result = await reindex(
                store,
                embedder,
                sealer=ContentSealer.from_settings(settings),
                progress=lambda staged, _items: bars("re-embedding", staged),
            )
    finally:
        await embedder.aclose()
    return f"re-embedded {result.items} items with {result.model}"


async def _import_markdown(settings: Settings, folder: Path, agent: str, console: Console) -> str:
    from mcp_memory.services import open_service

    async with open_service(settings) as service:
        with _bars(console) as bars:
            report = await import_markdown(service, service.principal(agent), folder, progress=bars)
    parts = [
        f"{len(report.created)} new",
        f"{len(report.replaced)} replaced",
        f"{report.unchanged} unchanged memories",
        f"{len(report.facts_set)} facts set",
    ]
    if report.conflicts:
        parts.append(
            f"{len(report.conflicts)} facts changed meanwhile, left as they are: {', '.join(report.conflicts)}"
        )
    return "imported as " + agent + ": " + ", ".join(parts)
