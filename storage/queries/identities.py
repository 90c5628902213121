"""``IdentityQueries``: reading identities and their addresses, written once for both backends."""

from __future__ import annotations

from storage.contracts.identities import IdentityStore
from storage.errors import NotFoundError
from storage.models import Identity
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect, Reader

__all__ = ["IdentityQueries", "identity_plan"]


def identity_plan(d: Dialect, identity_id: str) -> Plan[Identity | None]:
    """An identity with its addresses, oldest first (``None``: no such identity)."""
    p = d.params()
    rows = yield Query(f"SELECT * FROM identities WHERE identity_id = {p.add(identity_id)}", p.values)
    if not rows:
        return None
    p = d.params()
    addresses = yield Query(
        f"SELECT * FROM addresses WHERE identity_id = {p.add(identity_id)} ORDER BY created_at, addr_seq",
        p.values,
    )
    return d.rows.identity(rows[0], addresses)


def _owner_plan(d: Dialect, channel_type: str, address: str) -> Plan[Identity]:
    p = d.params()
    p.require(f"channel_type = {p.add(channel_type)}", f"address = {p.add(address)}")
    rows = yield Query(f"SELECT identity_id FROM addresses WHERE {p.sql()}", p.values)
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
