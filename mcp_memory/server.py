"""Builds the MCP server: tools, resources, and a lifespan that opens the store and the embedder."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcp_memory import __version__
from mcp_memory.auth import Principal
from mcp_memory.config import Settings
from mcp_memory.resources import register_resources
from mcp_memory.services import open_service
from mcp_memory.tools import register_all
from mcp_memory.tools._common import AppState

__all__ = ["INSTRUCTIONS", "build_server"]

logger = logging.getLogger("mcp_memory")

INSTRUCTIONS = """\
Shared memory for a team of agents. Rooms are conversations: store_event appends to a room's timeline,
list_events reads it, get_conversation_state says who handles it, handoff passes it on. remember keeps
knowledge in a namespace (your private agent-<name>, or shared-* for the team); search_memory finds it by
meaning and keywords. Tasks: create_task, claim_task (one winner), update_task (send the version you read).
escalate hands a room to a human with a full handoff package. Lists are paged: follow next_cursor or
next_after_index instead of asking for everything."""


def build_server(settings: Settings, *, agent: str | None = None) -> MCPServer[AppState]:
    """Return an ``MCPServer`` for ``settings``; every call runs as ``agent`` (default: the config's).

    The store is opened when a session starts (lifespan); the embedder loads in the background so
    ``initialize`` is answered at once.
    """
    principal = Principal(
        agent=agent or settings.server.default_agent,
        policy=settings.policy_for(agent or settings.server.default_agent),
    )

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        async with open_service(settings) as service:
            description = await service.store.describe()
            logger.info("mcp-memory %s serving as %s on %s", __version__, principal.agent, description)

            def principal_of(_ctx: Context[Any, Any]) -> Principal:
                return principal

            yield AppState(service=service, principal_of=principal_of)

    server: MCPServer[AppState] = MCPServer(
        name="mcp-memory",
        title="mcp-memory",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
    )
    register_all(server)
    register_resources(server)

    @server.custom_route("/health", methods=["GET"])
    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    return server
