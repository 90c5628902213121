"""Versioned facts on PostgreSQL: ``PostgresFacts`` (compare-and-set writes, listing, history).

The rules (who may write, which version conflicts, what the change log records) are in
``storage.facts`` and ``storage.changelog``; this module holds the SQL. Every write takes the
namespace's head lock first (``changelog.lock_head``), which serialises writes to one namespace: of two
writers naming the same version, the second sees the first's commit and conflicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.changelog import fact_change, fact_deleted, fact_set
from storage.errors import NotFoundError
from storage.facts import check_fact_delete, check_fact_set, next_fact_version, visible_fact
from storage.models import (
    Fact,
    FactChange,
    Page,
    Sensitivity,
    check_fact_write,
    utc_now,
    validate_fact_address,
    validate_fact_value,
)
from storage.paging import clamp_limit, decode_cursor, encode_cursor
from storage.postgres import changelog
from storage.postgres.core import PostgresCore
from storage.postgres.rows import ROWS
from storage.scope import Scope
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


class PostgresFacts(PostgresCore):
    """``FactStore`` on PostgreSQL."""

    async def set_fact(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        expected_version: int | None = None,
        sensitivity: Sensitivity = Sensitivity.INTERNAL,
        scope: Scope | None = None,
    ) -> Fact:
        scope = scope or Scope.unrestricted()
        validate_fact_address(namespace, key)
        validate_fact_value(value)
        check_fact_write(namespace, sensitivity, scope)
        async with self._transaction() as conn:
            await changelog.lock_head(conn, namespace)
            current = await _current(conn, namespace, key)
            check_fact_set(namespace, key, current, expected_version, scope)
            return await write_fact(conn, namespace, key, value, sensitivity, scope.agent)

    async def get_fact(self, namespace: str, key: str, *, scope: Scope | None = None) -> Fact:
        validate_fact_address(namespace, key)
        async with self._connection() as conn:
            fact = visible_fact(await _current(conn, namespace, key), scope or Scope.unrestricted())
        if fact is None:
            raise NotFoundError("fact", f"{namespace}/{key}")
        return fact

    async def delete_fact(
        self, namespace: str, key: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> Fact:
        scope = scope or Scope.unrestricted()
        validate_fact_address(namespace, key)
        async with self._transaction() as conn:
            await changelog.lock_head(conn, namespace)
            current = await _current(conn, namespace, key)
            check_fact_delete(namespace, key, current, expected_version, scope)
            return await remove_fact(conn, namespace, key, scope.agent)

    async def list_facts(
        self,
        namespace: str,
        *,
        prefix: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Fact]:
        scope = scope or Scope.unrestricted()
        if not scope.can_read(namespace):
            return Page[Fact](items=[])
        size = clamp_limit(limit)
        after = str(decode_cursor(cursor, 1)[0]) if cursor is not None else None
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT * FROM facts WHERE namespace = $1 AND sensitivity <= $2"
                ' AND ($3::text IS NULL OR left(key, length($3)) = $3) AND ($4::text IS NULL OR key COLLATE "C" > $4)'
                ' ORDER BY key COLLATE "C" LIMIT $5',
                namespace,
                scope.max_sensitivity.level,
                prefix or None,
                after,
                size + 1,
            )
        items = [ROWS.fact(r) for r in rows[:size]]
        next_cursor = encode_cursor(items[-1].key) if len(rows) > size else None
        return Page[Fact](items=items, next_cursor=next_cursor)

    async def fact_history(
        self,
        namespace: str,
        key: str,
        *,
        limit: int = 50,
        before_version: int | None = None,
        scope: Scope | None = None,
    ) -> list[FactChange]:
        scope = scope or Scope.unrestricted()
        validate_fact_address(namespace, key)
        if not scope.can_read(namespace):
            return []
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT version, after, actor, changed_at FROM namespace_changes"
                " WHERE namespace = $1 AND item_type = 'fact' AND item_key = $2 AND sensitivity <= $3"
                " AND ($4::int IS NULL OR version < $4) ORDER BY seq DESC LIMIT $5",
                namespace,
                key,
                scope.max_sensitivity.level,
                before_version,
                clamp_limit(limit),
            )
        return [
            fact_change(namespace, key, r["version"], r["after"], r["actor"], r["changed_at"]) for r in rows
        ]
