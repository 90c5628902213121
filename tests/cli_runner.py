"""Run ``mcp-memory`` commands in process (``typer.testing.CliRunner``) instead of spawning the CLI.

A command runs its own ``anyio.run``, which refuses to start in a thread where an event loop is running,
or where the anyio test runner keeps one for session fixtures (even in a sync test). So commands run in a
worker thread: ``invoke`` from sync tests, ``run_cli`` from async tests.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import anyio
from typer.testing import CliRunner, Result

from mcp_memory.cli import app

__all__ = ["in_thread", "invoke", "run_cli"]

T = TypeVar("T")


def in_thread(function: Callable[[], T]) -> T:
    """Call ``function`` in a new thread (one without an event loop) and return its result."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def _invoke(args: tuple[str, ...], env: dict[str, str] | None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """``mcp-memory *args`` with ``env`` added to the environment; stdout and stderr kept apart."""
    return in_thread(partial(_invoke, args, env))


async def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """``mcp-memory *args`` from an async test (in a worker thread)."""
    return await anyio.to_thread.run_sync(partial(_invoke, args, env))
