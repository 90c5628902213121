"""Identities (one person across channels) and their ``(channel_type, address)`` pairs.

``addresses`` has ``UNIQUE (channel_type, address)``, and writes run under ``BEGIN IMMEDIATE``, so
concurrent ``resolve_identity`` calls for one new address create exactly one identity.
"""

from __future__ import annotations

import apsw

from storage.errors import NotFoundError
from storage.identities import merge_plan
from storage.models import Identity, new_id, utc_now
from storage.models.identities import check_address_owner
from storage.queries.identities import IdentityQueries, identity_plan
from storage.scope import Scope
from storage.sqlite.core import SQLITE, SQLiteCore, run_sqlite_plan
from storage.sqlite.rows import fetch_one, ts

__all__ = ["SQLiteIdentities", "get_identity"]


def _address_owner(conn: apsw.Connection, channel_type: str, address: str) -> str | None:
    row = fetch_one(
        conn,
        "SELECT identity_id FROM addresses WHERE channel_type = ? AND address = ?",
        (channel_type, address),
    )
    return None if row is None else str(row["identity_id"])


def get_identity(conn: apsw.Connection, identity_id: str) -> Identity:
    """Return an identity with its addresses (oldest first), in the caller's transaction. Raises: NotFoundError."""
    identity = run_sqlite_plan(conn, identity_plan(SQLITE, identity_id))
    if identity is None:
        raise NotFoundError("identity", identity_id)
    return identity


def resolve_identity(
    conn: apsw.Connection, channel_type: str, address: str, display_name: str | None
) -> tuple[Identity, bool]:
    """Return ``(owner, False)``, or create identity and address and return ``(identity, True)``."""
    owner = _address_owner(conn, channel_type, address)
    if owner is not None:
        return get_identity(conn, owner), False
    identity_id = new_id("idn")
    now = ts(utc_now())
    conn.execute(
        "INSERT INTO identities (identity_id, display_name, metadata, created_at) VALUES (?, ?, '{}', ?)",
        (identity_id, display_name, now),
    )
    conn.execute(
        "INSERT INTO addresses (channel_type, address, identity_id, created_at) VALUES (?, ?, ?, ?)",
        (channel_type, address, identity_id, now),
    )
    return get_identity(conn, identity_id), True


def link_address(conn: apsw.Connection, identity_id: str, channel_type: str, address: str) -> Identity:
    """Attach an address to an identity. Raises: NotFoundError, ConflictError (owned by another)."""
    get_identity(conn, identity_id)
    owner = _address_owner(conn, channel_type, address)
    if owner is None:
        conn.execute(
            "INSERT INTO addresses (channel_type, address, identity_id, created_at) VALUES (?, ?, ?, ?)",
            (channel_type, address, identity_id, ts(utc_now())),
        )
    else:
        check_address_owner(channel_type, address, owner, identity_id)
    return get_identity(conn, identity_id)


def unlink_address(conn: apsw.Connection, channel_type: str, address: str) -> Identity:
    """Detach an address and return its former owner. Raises: NotFoundError."""
    owner = _address_owner(conn, channel_type, address)
    if owner is None:
        raise NotFoundError("address", f"{channel_type}:{address}")
    conn.execute("DELETE FROM addresses WHERE channel_type = ? AND address = ?", (channel_type, address))
    return get_identity(conn, owner)


def merge_identities(conn: apsw.Connection, source: str, into: str, scope: Scope | None) -> Identity:
    """Merge ``source`` into ``into`` (``storage.identities.merge_plan``) under ``BEGIN IMMEDIATE``."""
    return run_sqlite_plan(conn, merge_plan(SQLITE, source, into, scope))


class SQLiteIdentities(IdentityQueries, SQLiteCore):
    """``IdentityStore``'s writes on SQLite: people and their channel addresses (reads: ``IdentityQueries``)."""

    async def resolve_identity(
        self, channel_type: str, address: str, *, display_name: str | None = None
    ) -> tuple[Identity, bool]:
        return await self._db.write(resolve_identity, channel_type, address, display_name)

    async def link_address(self, identity_id: str, channel_type: str, address: str) -> Identity:
        return await self._db.write(link_address, identity_id, channel_type, address)

    async def unlink_address(self, channel_type: str, address: str) -> Identity:
        return await self._db.write(unlink_address, channel_type, address)

    async def merge_identities(self, source_id: str, into_id: str, *, scope: Scope | None = None) -> Identity:
        return await self._db.write(merge_identities, source_id, into_id, scope)
