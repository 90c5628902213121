"""``mcp-memory export | mcp-memory import``: moving a tenant between two configs from the shell."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import anyio
from typer.testing import CliRunner, Result

from mcp_memory.cli import app
from mcp_memory.config import load_settings
from mcp_memory.services import open_service
from storage.models import MemoryFilter

T = TypeVar("T")
runner = CliRunner()


def invoke(args: list[str], stdin: str | None = None) -> Result:
    """Run the CLI in a thread of its own: the test session's event loop (async session fixtures) may be
    running in this one, and the CLI starts its own with ``anyio.run``."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(runner.invoke, app, args, input=stdin).result()


def _run(fn: Callable[[], Awaitable[T]]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, fn).result()


def _config(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'data_dir = "{tmp_path / name}"\n[embedder]\nprovider = "none"\n')
    return path


def _contents(config: Path) -> list[str]:
    async def run() -> list[str]:
        async with open_service(load_settings(config)) as service:
            page = await service.store.list_memories(MemoryFilter())
            return sorted(m.content for m in page.items)

    return _run(run)


def test_export_piped_into_import_moves_the_tenant_and_a_second_import_adds_nothing(tmp_path: Path) -> None:
    source, target = _config(tmp_path, "source"), _config(tmp_path, "target")

    async def seed() -> None:
        async with open_service(load_settings(source)) as service:
            me = service.principal("triage")
            await service.memories.remember(me, "the customer prefers email", namespace="shared-notes")
            await service.facts.set_fact(me, "shared-notes", "plan", "gold")

    _run(seed)

    exported = invoke(["export", "--config", str(source)])
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.startswith('{"format": "mcp-memory-export"')
    first = invoke(["import", "--config", str(target)], exported.stdout)
    again = invoke(["import", "--config", str(target)], exported.stdout)

    assert first.exit_code == 0, first.output
    assert "imported" in first.stderr
    assert again.exit_code == 0, again.output
    assert "imported 0 new rows" in again.stderr
    assert _contents(target) == ["the customer prefers email"]


def test_markdown_export_needs_a_folder_and_a_bad_input_is_an_error(tmp_path: Path) -> None:
    config = _config(tmp_path, "tenant")
    no_folder = invoke(["export", "--config", str(config), "--format", "markdown"])
    assert no_folder.exit_code == 2
    assert "--output" in no_folder.stderr
    bad = invoke(["import", "--config", str(config)], '{"format": "something else"}\n')
    assert bad.exit_code == 1
    assert "header" in bad.stderr
    folder = tmp_path / "md"
    written = invoke(["export", "--config", str(config), "-f", "markdown", "-o", str(folder)])
    assert written.exit_code == 0, written.output
    assert "0 memory files" in written.stderr
