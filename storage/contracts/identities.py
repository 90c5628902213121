"""The IdentityStore contract. Identities: one person across channels, addresses mapped to exactly one identity.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc

from storage.models import (
    Identity,
)
from storage.scope import Scope

__all__ = ["IdentityStore"]


class IdentityStore(abc.ABC):
    """Identities: one person across channels, addresses mapped to exactly one identity."""

    @abc.abstractmethod
    async def resolve_identity(
        self, channel_type: str, address: str, *, display_name: str | None = None
    ) -> tuple[Identity, bool]:
        """Return the identity owning ``(channel_type, address)``, creating it (and the address) if none.

        Returns ``(identity, created)``. Concurrent calls for one new address MUST create one identity.
        Addresses are compared exactly after the service's normalisation (lowercase emails, E.164 phones).
        """

    @abc.abstractmethod
    async def link_address(self, identity_id: str, channel_type: str, address: str) -> Identity:
        """Attach an address to an identity (idempotent when it is already theirs).

        Raises:
            NotFoundError: no such identity.
            ConflictError: the address belongs to another identity (unlink it first).
        """

    @abc.abstractmethod
    async def unlink_address(self, channel_type: str, address: str) -> Identity:
        """Detach an address from its identity and return that identity. Raises: NotFoundError."""

    @abc.abstractmethod
    async def merge_identities(self, source_id: str, into_id: str, *, scope: Scope | None = None) -> Identity:
        """Merge identity ``source_id`` into ``into_id`` in one transaction and return the survivor.

        Its addresses, room participation and event senders move to ``into_id``; ``source_id`` is deleted
        (the rules of ``storage.identities``).

        Raises:
            NotFoundError: either identity does not exist.
            InvalidInputError: the two are the same identity.
            PermissionDeniedError: a room where ``source_id`` took part or wrote is not readable in
                ``scope``, or holds its events above the scope's clearance; nothing changes.
        """

    @abc.abstractmethod
    async def get_identity(self, identity_id: str) -> Identity:
        """Return an identity with all its addresses. Raises: NotFoundError."""

    @abc.abstractmethod
    async def find_identity(self, channel_type: str, address: str) -> Identity:
        """Return the identity owning an address, without creating one. Raises: NotFoundError."""
