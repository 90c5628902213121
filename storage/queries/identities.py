"""``IdentityQueries``: reading identities and their addresses, written once for both backends."""

from __future__ import annotations

from storage.contracts.identities import IdentityStore
from storage.errors import NotFoundError
from storage.models import Identity
from storage.queries.plan import Plan
from storage.queries.reader import Dialect, Reader

__all__ = ["IdentityQueries", "identity_plan"]


def identity_plan(d: Dialect, identity_id: str) -> Plan[Identity | None]:
    """An identity with its addresses, oldest first (``None``: no such identity)."""
    rows = yield d.query("SELECT * FROM identities WHERE identity_id = {}", identity_id)
    if not rows:
        return None
    addresses = yield d.query(
        "SELECT * FROM addresses WHERE identity_id = {} ORDER BY created_at, addr_seq", identity_id
    )
    return d.rows.identity(rows[0], addresses)


def _owner_plan(d: Dialect, channel_type: str, address: str) -> Plan[Identity]:
    rows = yield d.query(
        "SELECT identity_id FROM addresses WHERE channel_type = {} AND address = {}", channel_type, address
    )
    identity = (yield from identity_plan(d, rows[0]["identity_id"])) if rows else None
    if identity is None:
        raise NotFoundError("address", f"{channel_type}:{address}")
    return identity


class IdentityQueries(Reader, IdentityStore):
    """``IdentityStore``'s reads: an identity by id, the owner of an address."""

    async def get_identity(self, identity_id: str) -> Identity:
        identity = await self._read(identity_plan(self.dialect, identity_id))
        if identity is None:
            raise NotFoundError("identity", identity_id)
        return identity

    async def find_identity(self, channel_type: str, address: str) -> Identity:
        return await self._read(_owner_plan(self.dialect, channel_type, address))
