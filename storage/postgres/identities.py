"""Identities (one person across channels) and their addresses."""

from __future__ import annotations

import asyncpg

from storage.errors import ConflictError, NotFoundError
from storage.identities import merge_plan
from storage.models import Identity, new_id, utc_now
from storage.models.identities import check_address_owner
from storage.postgres.core import POSTGRES, PostgresCore, run_postgres_plan
from storage.queries.identities import IdentityQueries, identity_plan
from storage.scope import Scope

__all__ = ["PostgresIdentities", "fetch_identity"]


async def fetch_identity(conn: asyncpg.Connection, identity_id: str) -> Identity:
    """An identity with its addresses, oldest first, on ``conn``. Raises: NotFoundError."""
    identity = await run_postgres_plan(conn, identity_plan(POSTGRES, identity_id))
    if identity is None:
        raise NotFoundError("identity", identity_id)
    return identity


class _Taken(Exception):
    """Internal: another transaction created the address first; roll back and read theirs."""


class PostgresIdentities(IdentityQueries, PostgresCore):
    """Identities' writes: resolve (get or create by address), link, unlink (reads: ``IdentityQueries``)."""

    async def resolve_identity(
        self, channel_type: str, address: str, *, display_name: str | None = None
    ) -> tuple[Identity, bool]:
        """Return ``(identity, created)`` for an address, creating both when new (one winner under races)."""
        for _ in range(3):
            try:
                async with self._transaction() as conn:
                    owner = await conn.fetchval(
                        "SELECT identity_id FROM addresses WHERE channel_type = $1 AND address = $2",
                        channel_type,
                        address,
                    )
                    if owner is not None:
                        return await fetch_identity(conn, owner), False
                    now = utc_now()
                    identity_id = new_id("idn")
                    await conn.execute(
                        "INSERT INTO identities (identity_id, display_name, created_at) VALUES ($1, $2, $3)",
                        identity_id,
                        display_name,
                        now,
                    )
                    inserted = await conn.fetchval(
                        "INSERT INTO addresses (channel_type, address, identity_id, created_at)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING identity_id",
                        channel_type,
                        address,
                        identity_id,
                        now,
                    )
                    if inserted is None:
                        raise _Taken
                    return await fetch_identity(conn, identity_id), True
            except _Taken:
                continue
        raise ConflictError(f"address {channel_type}:{address} is being created concurrently: retry")

    async def link_address(self, identity_id: str, channel_type: str, address: str) -> Identity:
        """Attach an address (idempotent). Raises: NotFoundError, ConflictError (owned by another)."""
        async with self._transaction() as conn:
            await fetch_identity(conn, identity_id)
            owner = await conn.fetchval(
                "INSERT INTO addresses (channel_type, address, identity_id, created_at)"
                " VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (channel_type, address) DO UPDATE SET channel_type = addresses.channel_type"
                " RETURNING identity_id",
                channel_type,
                address,
                identity_id,
                utc_now(),
            )
            check_address_owner(channel_type, address, owner, identity_id)
            return await fetch_identity(conn, identity_id)

    async def unlink_address(self, channel_type: str, address: str) -> Identity:
        """Detach an address and return its former identity. Raises: NotFoundError."""
        async with self._transaction() as conn:
            owner = await conn.fetchval(
                "DELETE FROM addresses WHERE channel_type = $1 AND address = $2 RETURNING identity_id",
                channel_type,
                address,
            )
            if owner is None:
                raise NotFoundError("address", f"{channel_type}:{address}")
            return await fetch_identity(conn, owner)

    async def merge_identities(self, source_id: str, into_id: str, *, scope: Scope | None = None) -> Identity:
        """Merge ``source_id`` into ``into_id`` (``storage.identities.merge_plan``) in one transaction.

        Both identity rows are locked first (in id order, so two merges cannot deadlock), so nothing
        joins the merged identity while it moves. Raises: NotFoundError, InvalidInputError,
        PermissionDeniedError.
        """
        async with self._transaction() as conn:
            await conn.execute(
                "SELECT identity_id FROM identities WHERE identity_id = ANY($1::text[]) ORDER BY identity_id"
                " FOR UPDATE",
                sorted({source_id, into_id}),
            )
            return await run_postgres_plan(conn, merge_plan(POSTGRES, source_id, into_id, scope))
