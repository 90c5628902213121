"""Events: append to a room's timeline (with sender identity resolution) and read it back in pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mcp_memory.auth import Principal
from mcp_memory.services.addresses import normalize_address, normalize_channel_type
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import room_events_uri, room_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.limits import fit_to_budget
from mcp_memory.services.results import EventPage, StoredEvent
from storage import InvalidInputError, PermissionDeniedError
from storage.indexing import event_head, sender_label
from storage.models import EventSource, NewEvent, Sensitivity, Visibility, utc_now

__all__ = ["EventService"]

GROUP = "events"


class EventService(AuditedArea, area="events"):
    """Room timelines."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def store_event(
        self,
        principal: Principal,
        room_id: str,
        content: str,
        *,
        type: str = "message",
        channel_type: str | None = None,
        sender_address: str | None = None,
        visibility: Visibility = Visibility.ALL,
        sensitivity: Sensitivity = Sensitivity.INTERNAL,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        occurred_at: datetime | None = None,
    ) -> StoredEvent:
        """Append an event to a room, written by the calling agent.

        With ``channel_type`` and ``sender_address`` the sender's identity is resolved (created on first
        contact) and joins the room as its ``customer`` participant if the room has none yet.

        Raises:
            NotFoundError: no such room the caller may read.
            ConflictError: the room is closed.
            PermissionDeniedError: ``sensitivity`` above the caller's clearance, or the room's namespace
                is not writable for the caller (nothing is written, no identity is created).
            InvalidInputError: a sender address without channel type, or a malformed address.
        """
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_clearance(principal, sensitivity)
        store = self._ctx.store
        scope = principal.scope()
        room = await store.get_room(room_id, scope=scope)
        if not scope.can_write(room.namespace):  # checked before the sender's identity is resolved
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may read room {room_id!r} but not write to it (namespace "
                f"{room.namespace!r}; writable: {', '.join(scope.write_namespaces) or 'none'})"
            )
        identity_id = None
        sender = sender_label(None, None, principal.agent)
        channel = normalize_channel_type(channel_type) if channel_type else None
        if sender_address is not None:
            if channel is None:
                raise InvalidInputError("sender_address needs channel_type (e.g. 'sms' or 'email')")
            identity, _ = await store.resolve_identity(channel, normalize_address(channel, sender_address))
            identity_id = identity.identity_id
            first = identity.addresses[0].address if identity.addresses else None
            sender = sender_label(identity.display_name, first, principal.agent)
        occurred_at = occurred_at or utc_now()
        new = NewEvent(
            room_id=room.room_id,
            type=type,
            content=self._ctx.sealer.seal(content, sensitivity, kind="event"),
            visibility=visibility,
            sensitivity=sensitivity,
            source=EventSource(channel_type=channel, sender_identity_id=identity_id, agent=principal.agent),
            metadata=metadata or {},
            idempotency_key=idempotency_key,
            occurred_at=occurred_at,
        )
        # The vector is of the event's indexed head (date, sender, content): see storage.indexing.
        head = event_head(content, sender=sender, occurred_at=new.occurred_at or occurred_at)
        embedding = await self._ctx.embeddings.embed_for_write(head)
        result = await store.append_event(new, embedding, scope=scope)
        if embedding is None and result.created:
            self._ctx.embeddings.queued()
        if identity_id is not None and result.created:
            participants = await store.list_participants(room_id, include_left=True)
            if not any(p.role == "customer" for p in participants):
                await store.add_participant(room_id, identity_id, kind="identity", role="customer")
        if result.created:
            await self._ctx.changes.publish(room_events_uri(room.room_id), room_uri(room.room_id))
        return StoredEvent(event=self._ctx.sealer.reveal(result.event), created=result.created)

    async def list_events(
        self,
        principal: Principal,
        room_id: str,
        *,
        limit: int = 20,
        after_index: int | None = None,
        before_index: int | None = None,
        types: list[str] | None = None,
        visibility: list[Visibility] | None = None,
        channel_type: str | None = None,
        sender_identity_id: str | None = None,
    ) -> EventPage:
        """Read a room's timeline in ascending index order, capped in items and characters.

        ``types`` and ``visibility`` keep events with one of the values; ``channel_type`` those that came in
        on that channel; ``sender_identity_id`` those that person sent.

        Raises:
            NotFoundError: no such room.
        """
        self._ctx.require_group(principal, GROUP)
        limits = self._ctx.settings.limits
        limit = self._ctx.page_size(limit)
        events = await self._ctx.store.list_events(
            room_id,
            limit=limit + 1,
            after_index=after_index,
            before_index=before_index,
            types=types,
            visibility=visibility,
            channel_types=[normalize_channel_type(channel_type)] if channel_type else None,
            sender_identity_id=sender_identity_id,
            scope=principal.scope(),
        )
        if before_index is not None and after_index is None and len(events) > limit:
            events = events[1:]  # the extra item is the oldest one when paging backwards
            more = True
        else:
            more = len(events) > limit
            events = events[:limit]
        kept, cut = fit_to_budget(self._ctx.sealer.reveal(events), limits.max_chars_per_response)
        has_more = more or cut
        return EventPage(
            room_id=room_id,
            events=kept,
            has_more=has_more,
            next_after_index=kept[-1].index if has_more and kept else None,
        )
