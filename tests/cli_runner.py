"""Run ``mcp-memory`` commands in process (``typer.testing.CliRunner``) instead of spawning the CLI.

A command runs its own ``anyio.run``, which refuses to start inside a running event loop: async tests call
``run_cli`` (the command runs in a worker thread, which has no loop); sync tests may call ``invoke``.
"""

from __future__ import annotations

from functools import partial

import anyio
from typer.testing import CliRunner, Result

from mcp_memory.cli import app

__all__ = ["invoke", "run_cli"]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """``mcp-memory *args`` with ``env`` added to the environment; stdout and stderr kept apart."""
    return CliRunner().invoke(app, list(args), env=env)


async def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """``invoke`` in a worker thread, for async tests."""
    return await anyio.to_thread.run_sync(partial(invoke, *args, env=env))
