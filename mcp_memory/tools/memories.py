"""Memory tools: remember, search by meaning and words, forget."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import SearchResults
from mcp_memory.tools._common import DESTRUCTIVE, READ, WRITE, caller
from storage.models import Memory, MetadataValue, SearchRequest, Sensitivity

Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]] | None, Field(max_length=32)]


def register(server: MCPServer[Any]) -> None:
    """Register the memory tools on ``server``."""

    @server.tool(annotations=WRITE)
    async def remember(
        ctx: Context[Any, Any],
        content: Annotated[
            str, Field(description="The knowledge to keep, self-contained.", min_length=1, max_length=20_000)
        ],
        namespace: Annotated[
            str | None,
            Field(
                description="e.g. shared-customer-context; default: your private agent-<name>.",
                max_length=128,
            ),
        ] = None,
        kind: Annotated[
            str,
            Field(
                description="note, observation, decision, learning, or a learning signal: success, failure, "
                "pattern, recommendation.",
                max_length=64,
            ),
        ] = "note",
        tags: Tags = None,
        room_id: Annotated[
            str | None, Field(description="The conversation this is about.", max_length=128)
        ] = None,
        task_id: Annotated[str | None, Field(max_length=128)] = None,
        session_id: Annotated[str | None, Field(max_length=128)] = None,
        sensitivity: Sensitivity = Sensitivity.INTERNAL,
        importance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5,
        metadata: dict[str, Any] | None = None,
    ) -> Memory:
        """Store a fact, observation or decision for later recall by you or (in a shared namespace) the team."""
        service, me = caller(ctx)
        return await service.memories.remember(
            me,
            content,
            namespace=namespace,
            kind=kind,
            tags=tags,
            metadata=metadata,
            sensitivity=sensitivity,
            importance=importance,
            session_id=session_id,
            room_id=room_id,
            task_id=task_id,
        )

    @server.tool(annotations=READ)
    async def search_memory(
        ctx: Context[Any, Any],
        query: Annotated[
            str, Field(description="What you want to know, in words.", min_length=1, max_length=4000)
        ],
        namespaces: Annotated[
            list[str] | None,
            Field(description="Limit to these (patterns like shared-* allowed).", max_length=64),
        ] = None,
        kinds: Annotated[
            list[str] | None,
            Field(description="e.g. [success, failure] for learning signals.", max_length=32),
        ] = None,
        tags: Annotated[Tags, Field(description="Results must carry all of these tags.")] = None,
        room_id: Annotated[str | None, Field(max_length=128)] = None,
        session_id: Annotated[str | None, Field(max_length=128)] = None,
        include_events: Annotated[bool, Field(description="Also search room timelines.")] = False,
        metadata: Annotated[
            dict[str, MetadataValue] | None, Field(description="Exact matches on metadata keys.")
        ] = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        half_life_hours: Annotated[
            float | None, Field(description="Favour recent items (decay half-life).", gt=0, le=1_000_000)
        ] = None,
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> SearchResults:
        """Find memories (and optionally room events) by meaning and keywords, best first, within your access."""
        service, me = caller(ctx)
        request = SearchRequest(
            query=query,
            namespaces=namespaces or [],
            kinds=kinds or [],
            tags=tags or [],
            room_id=room_id,
            session_id=session_id,
            include_events=include_events,
            metadata=metadata or {},
            created_after=created_after,
            created_before=created_before,
            half_life_hours=half_life_hours,
            limit=limit,
        )
        return await service.memories.search(me, request)

    @server.tool(annotations=DESTRUCTIVE)
    async def forget(ctx: Context[Any, Any], memory_id: Annotated[str, Field(max_length=128)]) -> Memory:
        """Delete a memory that is wrong or obsolete. Returns what was deleted."""
        service, me = caller(ctx)
        return await service.memories.forget(me, memory_id)
