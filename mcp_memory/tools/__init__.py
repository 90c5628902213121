"""MCP tools: thin adapters that validate input, call one service method and return a model.

Each module registers one area's tools with ``register(server)``; every tool of a module belongs to that
module's tool group (``AREAS``), which a policy allows or not (``mcp_memory.auth``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from mcp.server.mcpserver import MCPServer

from mcp_memory.sdk_adapter import tool_input_schemas
from mcp_memory.tools import (
    alerts,
    audit,
    coordination,
    escalations,
    events,
    facts,
    graph,
    identities,
    identity_admin,
    memories,
    retention,
    room_admin,
    rooms,
    sessions,
    tasks,
    versions,
)

__all__ = ["AREAS", "register_all"]

#: (tool group, the module registering tools of that group), in registration order; a group may have
#: several modules (``audit``: the audit log and the coordination metrics).
AREAS: tuple[tuple[str, ModuleType], ...] = (
    ("rooms", rooms),
    ("room_admin", room_admin),
    ("events", events),
    ("identities", identities),
    ("identity_admin", identity_admin),
    ("memories", memories),
    ("sessions", sessions),
    ("tasks", tasks),
    ("escalations", escalations),
    ("graph", graph),
    ("alerts", alerts),
    ("facts", facts),
    ("snapshots", versions),
    ("retention", retention),
    ("audit", audit),
    ("audit", coordination),
)


def register_all(server: MCPServer[Any]) -> dict[str, str]:
    """Register every tool area on ``server``; return each tool's group (tool name -> group)."""
    groups: dict[str, str] = {}
    for group, area in AREAS:
        before = set(tool_input_schemas(server))
        area.register(server)
        groups.update(dict.fromkeys(set(tool_input_schemas(server)) - before, group))
    return groups
