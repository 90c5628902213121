"""Versioned migrations of the PostgreSQL backend, safe when many processes start at once.

Each pending migration runs in its own transaction together with its ``schema_migrations`` row, after
taking ``pg_advisory_xact_lock`` on a key derived from the schema name: a second process starting at the
same moment waits, then sees the migration recorded and skips it. A database whose newest migration is
unknown to this code is refused before anything is changed.
"""

from __future__ import annotations

import logging

import asyncpg

from storage.errors import SchemaVersionError
from storage.migrate import Migration, check_not_newer, load_migrations
from storage.postgres.pool import quote_ident

__all__ = ["apply_migrations", "applied_version", "lock_key", "migrations"]

logger = logging.getLogger("storage.postgres")


def migrations() -> list[Migration]:
    """The SQL migrations shipped in ``storage/postgres/migrations``, ordered by version."""
    return load_migrations("storage.postgres")


def lock_key(schema: str | None, purpose: str = "migrate") -> str:
    """Text hashed by ``hashtext()`` into the advisory lock of ``purpose`` in ``schema``."""
    return f"mcp_memory:{purpose}:{schema or 'public'}"


async def applied_version(conn: asyncpg.Connection) -> int:
    """The newest migration recorded in ``schema_migrations`` (0 when the table is missing or empty)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


async def apply_migrations(conn: asyncpg.Connection, schema: str | None) -> int:
    """Bring the schema up to the newest migration and return its version.

    Args:
        conn: a connection whose search path starts with ``schema``.
        schema: the store's schema (created when missing), ``None`` for ``public``.

    Raises:
        SchemaVersionError: the database is newer than this code, or a migration failed (rolled back).
        asyncpg.PostgresError: connection-level failures; the caller maps them.
    """
    known = migrations()
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key(schema))
        if schema is not None:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = await applied_version(conn)
        check_not_newer(current, known)
    for migration in known:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key(schema))
            current = await applied_version(conn)
            check_not_newer(current, known)
            if await conn.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1", migration.version):
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
            except asyncpg.PostgresError as exc:
                if str(exc.sqlstate)[:2] in ("08", "40", "53", "57"):
                    raise  # connection or retry class: mapped to BackendUnavailableError by the caller
                raise SchemaVersionError(
                    f"migration {migration.version:04d}_{migration.name} failed (SQLSTATE {exc.sqlstate}) "
                    "and was rolled back: check the database user's privileges"
                ) from exc
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            logger.info("applied migration %04d_%s", migration.version, migration.name)
    return await applied_version(conn)
