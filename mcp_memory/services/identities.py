"""Identities: one person across channels; personal data in the directory namespace.

Reading an identity needs the directory namespace (``identities.directory_namespace``) in the caller's
``read_namespaces``; resolving, linking and unlinking addresses need it in ``write_namespaces`` too
(``ServiceContext.require_directory``). A refusal is the same for every identity id: it is the policy's.
"""

from __future__ import annotations

from mcp_memory.auth import Principal
from mcp_memory.services.addresses import normalize_address, normalize_channel_type
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.results import ResolvedIdentity
from storage import ConflictError
from storage.models import Identity

__all__ = ["IdentityService"]

GROUP = "identities"


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
        """Detach an address from its identity. Raises: NotFoundError, PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_directory(principal, write=True)
        channel = normalize_channel_type(channel_type)
        return await self._ctx.store.unlink_address(channel, normalize_address(channel, address))

    async def get_identity(self, principal: Principal, identity_id: str) -> Identity:
        """Return an identity with all its addresses. Raises: NotFoundError, PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_directory(principal, write=False)
        return await self._ctx.store.get_identity(identity_id)
