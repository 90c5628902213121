"""Memory tools: remember, search by meaning and words, list by filters alone, forget."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import MemoryPage, SearchResults
from mcp_memory.tools._common import (
    DESTRUCTIVE,
    READ,
    WRITE,
    Cursor,
    Metadata,
    SensitivityArg,
    caller,
    page_limit,
)
from storage.models import Memory, MemoryFilter, MetadataValue, SearchRequest, Sensitivity

Tags = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
    Field(description="Short labels to find it by.", max_length=32),
]
Names = Annotated[list[Annotated[str, Field(max_length=128)]] | None, Field(max_length=32)]
TaskId = Annotated[str | None, Field(description="Only for this task.", max_length=128)]
ExcludeAuthors = Annotated[Names, Field(description="Skip these authors, e.g. you.")]


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
        task_id: Annotated[str | None, Field(description="The task this is about.", max_length=128)] = None,
        session_id: Annotated[
            str | None, Field(description="The work session it belongs to.", max_length=128)
        ] = None,
        sensitivity: SensitivityArg = Sensitivity.INTERNAL,
        importance: Annotated[
            float, Field(description="0 to 1; more important memories rank higher.", ge=0.0, le=1.0)
        ] = 0.5,
        metadata: Metadata = None,
    ) -> Memory:
        """Keep an observation, decision or note for later recall by you or (shared-*) the team."""
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
        room_id: Annotated[str | None, Field(description="Only about this room.", max_length=128)] = None,
        session_id: Annotated[
            str | None, Field(description="Only from this session.", max_length=128)
        ] = None,
        include_events: Annotated[bool, Field(description="Also search room timelines.")] = False,
        metadata: Annotated[
            dict[str, MetadataValue] | None, Field(description="Exact matches on metadata keys.")
        ] = None,
        created_after: Annotated[datetime | None, Field(description="Only created after this time.")] = None,
        created_before: Annotated[
            datetime | None, Field(description="Only created before this time.")
        ] = None,
        half_life_hours: Annotated[
            float | None, Field(description="Favour recent items (decay half-life).", gt=0, le=1_000_000)
        ] = None,
        task_id: TaskId = None,
        exclude_authors: ExcludeAuthors = None,
        importance_weight: Annotated[
            float,
            Field(description="Favour important ones (0 off).", ge=0, le=10),
        ] = 0.0,
        limit: Annotated[int, page_limit(50)] = 10,
    ) -> SearchResults:
        """Find memories (and optionally room events) by meaning and keywords, best first."""
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
            task_id=task_id,
            exclude_authors=exclude_authors or [],
            importance_weight=importance_weight,
            limit=limit,
        )
        return await service.memories.search(me, request)

    @server.tool(annotations=READ)
    async def list_memories(
        ctx: Context[Any, Any],
        namespaces: Annotated[
            list[str] | None, Field(description="Names or patterns (shared-*).", max_length=64)
        ] = None,
        kinds: Annotated[
            list[str] | None, Field(description="e.g. [learning, decision].", max_length=32)
        ] = None,
        tags: Annotated[Tags, Field(description="Must have all these tags.")] = None,
        metadata: Annotated[
            dict[str, MetadataValue] | None, Field(description="Exact matches on metadata keys.")
        ] = None,
        task_id: TaskId = None,
        room_id: Annotated[str | None, Field(description="About this room.", max_length=128)] = None,
        session_id: Annotated[str | None, Field(description="In this session.", max_length=128)] = None,
        authors: Annotated[Names, Field(description="Written by these agents.")] = None,
        exclude_authors: ExcludeAuthors = None,
        created_after: Annotated[datetime | None, Field(description="From this time.")] = None,
        created_before: Annotated[datetime | None, Field(description="Before this time.")] = None,
        limit: Annotated[int, page_limit(50)] = 20,
        cursor: Cursor = None,
    ) -> MemoryPage:
        """List memories by filters alone (no query), newest first."""
        service, me = caller(ctx)
        filters = MemoryFilter(
            namespaces=namespaces or [],
            kinds=kinds or [],
            tags=tags or [],
            metadata=metadata or {},
            task_id=task_id,
            room_id=room_id,
            session_id=session_id,
            authors=authors or [],
            exclude_authors=exclude_authors or [],
            created_after=created_after,
            created_before=created_before,
        )
        return await service.memories.list_memories(me, filters, limit=limit, cursor=cursor)

    @server.tool(annotations=DESTRUCTIVE)
    async def forget(
        ctx: Context[Any, Any],
        memory_id: Annotated[str, Field(description="The memory's memory_id.", max_length=128)],
    ) -> Memory:
        """Delete a memory that is wrong or obsolete. Returns what was deleted."""
        service, me = caller(ctx)
        return await service.memories.forget(me, memory_id)
