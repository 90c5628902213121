"""What every tool shares: the lifespan state, finding the caller, and the tool annotations.

Auditing and error mapping are not the tools' business: the server's ``call_tool`` (``MemoryServer`` in
``mcp_memory.server``) audits every call once and maps domain errors (``mcp_memory.errors``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field
from pydantic.fields import FieldInfo

from mcp_memory.auth import Principal
from mcp_memory.services import Service
from storage.models import Sensitivity

__all__ = [
    "DESTRUCTIVE",
    "MAX_SQL_INTEGER",
    "READ",
    "WRITE",
    "WRITE_IDEMPOTENT",
    "AppState",
    "Cursor",
    "Metadata",
    "RoomId",
    "SensitivityArg",
    "caller",
    "page_limit",
]

#: The largest integer a tool accepts for an index or a version: a signed 64-bit SQL integer (SQLite's
#: INTEGER, PostgreSQL's bigint), so a larger one is refused by the tool's input schema on both backends
#: (SQLite's driver raised ``OverflowError`` where PostgreSQL answered ``InvalidInput``).
MAX_SQL_INTEGER = 2**63 - 1

#: Tool annotations (MCP ``ToolAnnotations``), each naming only hints that differ from the spec's defaults
#: (``readOnlyHint`` false, ``destructiveHint`` true, ``idempotentHint`` false, ``openWorldHint`` true) or
#: that a read-only tool makes meaningless; every tool works on the team's own memory (a closed world).
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(destructive_hint=False, open_world_hint=False)
WRITE_IDEMPOTENT = ToolAnnotations(destructive_hint=False, idempotent_hint=True, open_world_hint=False)
DESTRUCTIVE = ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=False)


#: Parameters many tools share, each described for the model that fills it in.
RoomId = Annotated[str, Field(description="The room's room_id.", max_length=128)]
Cursor = Annotated[str | None, Field(description="next_cursor of the previous page.", max_length=500)]
Metadata = Annotated[
    dict[str, Any] | None, Field(description='Your own JSON keys, e.g. {"order_id": "1182"}.')
]
SensitivityArg = Annotated[Sensitivity, Field(description="Who may read it: up to your clearance.")]


def page_limit(maximum: int) -> FieldInfo:
    """The ``Field`` of a page size parameter: 1..``maximum`` items."""
    info: FieldInfo = Field(description="Most items to return.", ge=1, le=maximum)
    return info


@dataclass
class AppState:
    """The lifespan state of a server: the service and how to find the caller of a request.

    ``principal_of`` returns the caller of the current request (stdio: the configured agent; HTTP: the
    agent of the request's bearer token, from the SDK's auth context); it raises ``ToolError`` when the
    request has no authenticated caller.
    """

    service: Service
    principal_of: Callable[[], Principal]


def caller(ctx: Context[Any, Any]) -> tuple[Service, Principal]:
    """Return the service and the calling principal of the current request."""
    state: AppState = ctx.request_context.lifespan_context
    return state.service, state.principal_of()
