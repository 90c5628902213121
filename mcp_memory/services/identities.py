"""Identities: one person across channels; personal data in the directory namespace.

Reading an identity needs the directory namespace (``identities.directory_namespace``) in the caller's
``read_namespaces``; resolving, linking and unlinking addresses need it in ``write_namespaces`` too
(``ServiceContext.require_directory``). A refusal is the same for every identity id: it is the policy's.
"""

from __future__ import annotations

from mcp_memory.auth import Principal
from mcp_memory.services.addresses import normalize_address, normalize_channel_type
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import identity_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.escalations import summarize, visible_to
from mcp_memory.services.limits import fit_to_budget
from mcp_memory.services.results import CustomerHistory, CustomerRoom, ResolvedIdentity
from storage import ConflictError, InvalidInputError
from storage.models import EscalationStatus, Identity, Room, TaskStatus

__all__ = ["IdentityService"]

GROUP = "identities"
#: The group of correcting who is who: unlinking addresses, merging identities.
ADMIN_GROUP = "identity_admin"

#: Task statuses a customer's history lists as open.
OPEN_TASKS = [TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS]

#: Most open tasks and unresolved escalations listed per room of a customer's history.
HISTORY_ITEMS_PER_ROOM = 20


class IdentityService(AuditedArea, area="identities"):
    """Resolve, link and read identities; addresses are normalised before they reach the store."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def resolve_identity(
        self, principal: Principal, channel_type: str, address: str, *, display_name: str | None = None
    ) -> ResolvedIdentity:
        """Return the identity owning an address, creating it on first contact. Raises: PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_directory(principal, write=True)
        channel = normalize_channel_type(channel_type)
        identity, created = await self._ctx.store.resolve_identity(
            channel, normalize_address(channel, address), display_name=display_name
        )
        return ResolvedIdentity(identity=identity, created=created)

    async def link_address(
        self, principal: Principal, identity_id: str, channel_type: str, address: str
    ) -> Identity:
        """Attach another address to a known identity (the same person on a new channel).

        Raises:
            NotFoundError: no such identity.
            ConflictError: the address belongs to someone else.
            PermissionDeniedError: the caller may not change the directory.
        """
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_directory(principal, write=True)
        channel = normalize_channel_type(channel_type)
        normalized = normalize_address(channel, address)
        try:
            return await self._ctx.store.link_address(identity_id, channel, normalized)
        except ConflictError as exc:
            owner = exc.current.identity_id if isinstance(exc.current, Identity) else "another identity"
            raise ConflictError(
                f"{channel} address {normalized!r} already belongs to {owner}: unlink it there first if "
                "it really is the same person, or merge the identities",
                current=exc.current,
            ) from None

    async def unlink_address(self, principal: Principal, channel_type: str, address: str) -> Identity:
        """Detach an address from its identity (it was someone else's); returns the former owner. The next
        event from that address resolves to a new identity.

        Raises:
            NotFoundError: nobody owns the address.
            PermissionDeniedError: the caller may not change the directory.
        """
        self._ctx.require_group(principal, ADMIN_GROUP)
        self._ctx.require_directory(principal, write=True)
        channel = normalize_channel_type(channel_type)
        owner = await self._ctx.store.unlink_address(channel, normalize_address(channel, address))
        await self._ctx.changes.publish(identity_uri(owner.identity_id))
        return owner

    async def merge_identities(self, principal: Principal, source_id: str, into_id: str) -> Identity:
        """Merge ``source_id`` into ``into_id`` (one person found twice): addresses, room participation and
        event senders follow the survivor; ``source_id`` is deleted. Audited like every call.

        Raises:
            NotFoundError: either identity does not exist.
            InvalidInputError: the same identity twice.
            PermissionDeniedError: ``source_id`` appears in a room the caller may not see in full.
        """
        self._ctx.require_group(principal, ADMIN_GROUP)
        self._ctx.require_directory(principal, write=True)
        survivor = await self._ctx.store.merge_identities(source_id, into_id, scope=principal.scope())
        await self._ctx.changes.publish(identity_uri(source_id), identity_uri(into_id))
        return survivor

    async def get_identity(self, principal: Principal, identity_id: str) -> Identity:
        """Return an identity with all its addresses. Raises: NotFoundError, PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_directory(principal, write=False)
        return await self._ctx.store.get_identity(identity_id)

    async def customer_history(
        self,
        principal: Principal,
        *,
        identity_id: str | None = None,
        channel_type: str | None = None,
        address: str | None = None,
        events_per_room: int = 5,
        limit: int = 5,
        cursor: str | None = None,
    ) -> CustomerHistory:
        """A person's rooms across channels (newest first, paged, only rooms the caller may read), each with
        its latest ``events_per_room`` events, open tasks and unresolved escalations.

        The person is ``identity_id``, or the owner of ``(channel_type, address)`` (never created here).
        The reply is cut to ``limits.max_chars_per_response``: fewer rooms, with a cursor after the last.

        Raises:
            InvalidInputError: neither an identity id nor a channel address, or a bad cursor.
            NotFoundError: no such identity, or nobody owns the address.
            PermissionDeniedError: the caller may not read the identity directory.
        """
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_directory(principal, write=False)
        identity = await self._find(identity_id, channel_type, address)
        limit = self._ctx.page_size(limit)
        store, scope = self._ctx.store, principal.scope()
        page = await store.list_rooms(
            identity_id=identity.identity_id, limit=limit, cursor=cursor, scope=scope
        )
        rooms = [await self._room_history(principal, room, events_per_room) for room in page.items]
        kept, cut = fit_to_budget(rooms, self._ctx.settings.limits.max_chars_per_response)
        next_cursor = page.next_cursor
        if cut:  # the cursor after the last room kept: that page again, as long as what was kept
            shorter = await store.list_rooms(
                identity_id=identity.identity_id, limit=len(kept), cursor=cursor, scope=scope
            )
            next_cursor = shorter.next_cursor
        return CustomerHistory(identity=identity, rooms=kept, next_cursor=next_cursor)

    async def _find(self, identity_id: str | None, channel_type: str | None, address: str | None) -> Identity:
        if identity_id is not None:
            return await self._ctx.store.get_identity(identity_id)
        if channel_type is None or address is None:
            raise InvalidInputError("give identity_id, or channel_type and address of the person")
        channel = normalize_channel_type(channel_type)
        return await self._ctx.store.find_identity(channel, normalize_address(channel, address))

    async def _room_history(self, principal: Principal, room: Room, events: int) -> CustomerRoom:
        store, scope = self._ctx.store, principal.scope()
        recent = (
            await store.list_events(
                room.room_id, limit=events, before_index=room.last_event_index + 1, scope=scope
            )
            if events > 0
            else []
        )
        tasks = await store.list_tasks(
            status=OPEN_TASKS, room_id=room.room_id, limit=HISTORY_ITEMS_PER_ROOM, scope=scope
        )
        escalations = await store.list_escalations(
            status=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED],
            room_id=room.room_id,
            limit=HISTORY_ITEMS_PER_ROOM,
            scope=scope,
        )
        return CustomerRoom(
            room=room,
            recent_events=self._ctx.sealer.reveal(recent),
            open_tasks=tasks.items,
            open_escalations=[
                summarize(visible_to(principal, e, self._ctx.settings.identities.directory_namespace))
                for e in escalations.items
            ],
        )
