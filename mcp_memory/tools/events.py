"""Event tools: write to and read a room's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.results import EventPage, StoredEvent
from mcp_memory.tools._common import (
    MAX_SQL_INTEGER,
    READ,
    WRITE_IDEMPOTENT,
    Metadata,
    RoomId,
    SensitivityArg,
    caller,
    page_limit,
)
from storage.models import Sensitivity, Visibility


def register(server: MCPServer[Any]) -> None:
    """Register the event tools on ``server``."""

    @server.tool(annotations=WRITE_IDEMPOTENT)
    async def store_event(
        ctx: Context[Any, Any],
        room_id: RoomId,
        content: Annotated[
            str, Field(description="The message or note text.", min_length=1, max_length=100_000)
        ],
        type: Annotated[str, Field(description="message, note, system, ...", max_length=64)] = "message",
        channel_type: Annotated[
            str | None, Field(description="Channel it came in on: sms, email, web...", max_length=32)
        ] = None,
        sender_address: Annotated[
            str | None,
            Field(
                description="The customer's address on that channel; resolves their identity.", max_length=320
            ),
        ] = None,
        visibility: Annotated[
            Visibility, Field(description="'all' or 'agents' (hidden from the customer).")
        ] = Visibility.ALL,
        sensitivity: SensitivityArg = Sensitivity.INTERNAL,
        idempotency_key: Annotated[
            str | None,
            Field(description="Reuse the same key when retrying: no duplicate is written.", max_length=200),
        ] = None,
        occurred_at: Annotated[
            datetime | None, Field(description="When it happened (UTC ISO 8601); default now.")
        ] = None,
        metadata: Metadata = None,
    ) -> StoredEvent:
        """Append a message or note to a room's timeline. Returns the event with its per-room index."""
        service, me = caller(ctx)
        return await service.events.store_event(
            me,
            room_id,
            content,
            type=type,
            channel_type=channel_type,
            sender_address=sender_address,
            visibility=visibility,
            sensitivity=sensitivity,
            metadata=metadata,
            idempotency_key=idempotency_key,
            occurred_at=occurred_at,
        )

    @server.tool(annotations=READ)
    async def list_events(
        ctx: Context[Any, Any],
        room_id: RoomId,
        after_index: Annotated[
            int | None,
            Field(description="Only events after this index (continue paging).", ge=0, le=MAX_SQL_INTEGER),
        ] = None,
        before_index: Annotated[
            int | None,
            Field(description="Only the latest events before this index.", ge=1, le=MAX_SQL_INTEGER),
        ] = None,
        limit: Annotated[int, page_limit(100)] = 20,
        types: Annotated[
            list[str] | None, Field(description="Keep only these event types.", max_length=20)
        ] = None,
        visibility: Annotated[
            Visibility | None, Field(description="all (customer-visible) or agents (internal).")
        ] = None,
        channel_type: Annotated[
            str | None, Field(description="Only from this channel.", max_length=32)
        ] = None,
        sender_identity_id: Annotated[
            str | None, Field(description="Only sent by this person.", max_length=128)
        ] = None,
    ) -> EventPage:
        """Read a room's timeline, oldest first, a page at a time (use next_after_index to continue)."""
        service, me = caller(ctx)
        return await service.events.list_events(
            me,
            room_id,
            limit=limit,
            after_index=after_index,
            before_index=before_index,
            types=types,
            visibility=[visibility] if visibility else None,
            channel_type=channel_type,
            sender_identity_id=sender_identity_id,
        )
