"""Fixtures for server-level tests: settings on a fresh data dir and a connected in-process MCP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_memory.config import Settings, load_settings
from mcp_memory.server import build_server


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings on ``data_dir`` with lexical-only search unless ``embedder`` is overridden."""
    overrides.setdefault("embedder", {"provider": "none"})
    return load_settings(None, data_dir=data_dir, **overrides)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Build settings on this test's data dir with overrides, e.g. ``limits={...}``."""
    return lambda **overrides: make_settings(tmp_path, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, agent="triage")) as connected:
        yield connected
