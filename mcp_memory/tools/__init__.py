"""MCP tools: thin adapters that validate input, call one service method and return a model.

Each module registers one area's tools with ``register(server)``.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from mcp_memory.tools import (
    alerts,
    audit,
    coordination,
    escalations,
    events,
    facts,
    graph,
    identities,
    memories,
    retention,
    rooms,
    tasks,
    versions,
)

__all__ = ["register_all"]


def register_all(server: MCPServer[Any]) -> None:
    """Register every tool area on ``server``."""
    for area in (
        rooms,
        events,
        identities,
        memories,
        tasks,
        escalations,
        graph,
        alerts,
        facts,
        versions,
        retention,
        audit,
        coordination,
    ):
        area.register(server)
