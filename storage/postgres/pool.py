"""Connection pool of the PostgreSQL backend: asyncpg pool, JSONB codecs, schema search path."""

from __future__ import annotations

import json
import re
from typing import Any

import asyncpg

from storage.errors import InvalidInputError

__all__ = ["create_pool", "quote_ident", "validate_schema"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def validate_schema(schema: str | None) -> str | None:
    """Return ``schema`` when it is a plain lowercase identifier (1-63 characters), else raise.

    Raises:
        InvalidInputError: the name would need quoting (upper case, spaces, quotes...).
    """
    if schema is not None and not _SCHEMA_RE.match(schema):
        raise InvalidInputError(
            f"schema name {schema!r} is not valid: use 1-63 lowercase letters, digits and _ (not first)"
        )
    return schema


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (double quotes, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


async def _init_connection(conn: asyncpg.Connection) -> None:
    """Decode ``json``/``jsonb`` to Python values and encode Python values as JSON text."""
    for type_name in ("jsonb", "json"):
        await conn.set_type_codec(type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def search_path(schema: str | None, extra: tuple[str, ...] = ()) -> str:
    """The ``search_path`` of the store's connections: its schema, then ``public`` and ``extra`` schemas."""
    names = [schema or "public", "public", *extra]
    seen: dict[str, None] = dict.fromkeys(names)
    return ", ".join(quote_ident(n) for n in seen)


async def create_pool(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    schema: str | None,
    extra_schemas: tuple[str, ...] = (),
    connect_timeout_seconds: float = 10.0,
) -> asyncpg.Pool:
    """Open an asyncpg pool whose connections use ``schema`` first in their search path.

    Args:
        dsn: ``postgresql://...`` from the caller; never logged.
        min_size, max_size: pool bounds (connections).
        schema: the store's schema (``None``: the server's default, ``public``).
        extra_schemas: schemas to append to the search path (where the ``vector`` extension lives).
        connect_timeout_seconds: bound of each connection attempt.
    """
    settings: dict[str, Any] = {
        "search_path": search_path(schema, extra_schemas),
        "application_name": "mcp-memory",
    }
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        server_settings=settings,
        timeout=connect_timeout_seconds,
    )
    assert pool is not None
    return pool
