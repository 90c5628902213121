"""Versioned facts on PostgreSQL: ``PostgresFacts``, the compare-and-set writes (reads: ``storage.queries.facts``).

The rules (who may write, which version conflicts, what the change log records) are in
``storage.facts`` and ``storage.changelog``; this module holds the SQL. Every write takes the
namespace's head lock first (``changelog.lock_head``), which serialises writes to one namespace: of two
writers naming the same version, the second sees the first's commit and conflicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.changelog import fact_deleted, fact_set
from storage.errors import NotFoundError
from storage.facts import FactWrite, next_fact_version
from storage.models import Fact, Sensitivity, utc_now
from storage.postgres import changelog
from storage.postgres.core import PostgresCore
from storage.postgres.rows import ROWS
from storage.queries.facts import FactQueries
from storage.versioning import FactState

__all__ = ["PostgresFacts", "current_facts", "remove_fact", "write_fact"]


async def _current(conn: asyncpg.Connection, namespace: str, key: str) -> Fact | None:
    row = await conn.fetchrow("SELECT * FROM facts WHERE namespace = $1 AND key = $2", namespace, key)
    return None if row is None else ROWS.fact(row)


async def current_facts(
    conn: asyncpg.Connection, namespace: str, keys: Sequence[str] | None = None
) -> dict[str, tuple[FactState, int]]:
    """key -> (state, version) of the namespace's live facts (all, or those among ``keys``)."""
    if keys is None:
        rows = await conn.fetch("SELECT * FROM facts WHERE namespace = $1", namespace)
    else:
        rows = await conn.fetch(
            "SELECT * FROM facts WHERE namespace = $1 AND key = ANY($2::text[])", namespace, list(keys)
        )
    facts = [ROWS.fact(r) for r in rows]
    return {f.key: (FactState(f.value, f.sensitivity), f.version) for f in facts}


async def write_fact(
    conn: asyncpg.Connection,
    namespace: str,
    key: str,
    value: Any,
    sensitivity: Sensitivity,
    actor: str | None,
) -> Fact:
    """Create or replace a fact at the next version and log it (no version check; head locked)."""
    old = await _current(conn, namespace, key)
    last = 0 if old else await changelog.last_fact_version(conn, namespace, key)
    version = next_fact_version(old, last)
    row = await conn.fetchrow(
        "INSERT INTO facts (namespace, key, value, version, sensitivity, created_by, updated_by,"
        " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7) ON CONFLICT (namespace, key)"
        " DO UPDATE SET value = $3, version = $4, sensitivity = $5, updated_by = $6, updated_at = $7"
        " RETURNING *",
        namespace,
        key,
        value,
        version,
        sensitivity.level,
        actor,
        utc_now(),
    )
    await changelog.record(conn, fact_set(namespace, key, value, sensitivity, version, old, actor))
    return ROWS.fact(row)


async def remove_fact(conn: asyncpg.Connection, namespace: str, key: str, actor: str | None) -> Fact:
    """Delete a live fact and log it at the next version. Raises: NotFoundError."""
    old = await _current(conn, namespace, key)
    if old is None:
        raise NotFoundError("fact", f"{namespace}/{key}")
    await conn.execute("DELETE FROM facts WHERE namespace = $1 AND key = $2", namespace, key)
    await changelog.record(conn, fact_deleted(old, actor))
    return old


class PostgresFacts(FactQueries, PostgresCore):
    """``FactStore``'s writes on PostgreSQL, each under the namespace's head lock (the rest is ``FactQueries``)."""

    async def _write_fact(self, write: FactWrite) -> Fact:
        async with self._transaction() as conn:
            await changelog.lock_head(conn, write.namespace)
            write.check(await _current(conn, write.namespace, write.key))
            if write.delete:
                return await remove_fact(conn, write.namespace, write.key, write.scope.agent)
            return await write_fact(
                conn, write.namespace, write.key, write.value, write.sensitivity, write.scope.agent
            )
