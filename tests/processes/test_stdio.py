"""`mcp-memory serve` as a real subprocess, driven by the SDK's stdio client."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.toml"


def write_config(tmp_path: Path, provider: str) -> Path:
    config = tmp_path / "team.toml"
    config.write_text(f'data_dir = "data"\n[embedder]\nprovider = "{provider}"\n', encoding="utf-8")
    return config


def serve(config: Path, agent: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", agent]
    )


async def test_two_stdio_sessions_share_one_data_dir_with_the_local_embedder(tmp_path: Path) -> None:
    config = write_config(tmp_path, "local")
    with anyio.fail_after(60):
        async with Client(serve(config, "triage")) as triage, Client(serve(config, "billing")) as billing:
            room = (await triage.call_tool("create_room", {"name": "case"})).structured_content
            assert room is not None
            stored = await billing.call_tool(
                "store_event",
                {"room_id": room["room_id"], "content": "The customer was charged twice for March"},
            )
            assert not stored.is_error
            assert stored.structured_content is not None
            assert stored.structured_content["event"]["source"]["agent"] == "billing"
            await triage.call_tool(
                "remember",
                {
                    "content": "Duplicate payment on the March invoice",
                    "namespace": "shared-cases",
                    "kind": "observation",
                },
            )
            found = await billing.call_tool(
                "search_memory", {"query": "customer billed two times", "namespaces": ["shared-*"]}
            )
            assert found.structured_content is not None
            assert found.structured_content["mode"] == "hybrid"
            assert (
                found.structured_content["results"][0]["content"] == "Duplicate payment on the March invoice"
            )


async def test_server_answers_initialize_quickly_even_with_the_local_embedder(tmp_path: Path) -> None:
    config = write_config(tmp_path, "local")
    started = time.perf_counter()
    with anyio.fail_after(30):
        async with Client(serve(config, "triage")) as client:
            connected = time.perf_counter() - started
            tools = await client.list_tools()
    # Printed, not asserted (timing belongs to benchmarks): process spawn + imports + handshake.
    print(f"stdio connect {connected:.2f}s with {len(tools.tools)} tools")
    assert "search_memory" in {t.name for t in tools.tools}


async def test_a_stdio_session_with_the_default_config_lists_its_profile_within_budget(
    tmp_path: Path,
) -> None:
    """Issue 12's measure: the shipped default config's agent over stdio, counted on the client."""
    config = DEFAULT_CONFIG
    env = {**os.environ, "MCP_MEMORY_DATA_DIR": str(tmp_path), "MCP_MEMORY_EMBEDDER__PROVIDER": "none"}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_memory", "serve", "--config", str(config)], env=env
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            refused = await client.call_tool("remember", {"content": "x", "importance_weight": 2})
    size = len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]))
    print(f"stdio default config: {len(tools)} tools, {size} characters")
    assert size <= 24_000
    assert "remember" in {t.name for t in tools}
    assert "create_room" not in {t.name for t in tools}  # the core profile
    assert refused.is_error
    assert "remember has no parameter 'importance_weight'" in refused.content[0].text  # type: ignore[union-attr]
