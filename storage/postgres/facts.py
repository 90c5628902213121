"""Versioned facts on PostgreSQL: compare-and-set writes, listing, and history read from the change log.

Every write takes the namespace's head lock first (``changelog.bump``), which serialises writes to one
namespace: of two writers naming the same version, the second sees the first's commit and conflicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from storage.errors import ConflictError, NotFoundError, PermissionDeniedError
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
from storage.postgres.rows import LEVEL_TO_SENSITIVITY
from storage.scope import Scope
from storage.versioning import FactState, fact_state_json

__all__ = ["FactsMixin", "current_facts", "fact_from_row"]


def fact_from_row(row: Mapping[str, Any]) -> Fact:
    """A ``facts`` row as a ``Fact``."""
    return Fact(
        namespace=row["namespace"],
        key=row["key"],
        value=row["value"],
        version=row["version"],
        sensitivity=LEVEL_TO_SENSITIVITY[row["sensitivity"]],
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _current(conn: asyncpg.Connection, namespace: str, key: str) -> Fact | None:
    row = await conn.fetchrow("SELECT * FROM facts WHERE namespace = $1 AND key = $2", namespace, key)
    return None if row is None else fact_from_row(row)


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
    facts = [fact_from_row(r) for r in rows]
    return {f.key: (FactState(f.value, f.sensitivity), f.version) for f in facts}


def _visible(fact: Fact | None, scope: Scope) -> Fact | None:
    if fact is None or not scope.can_read(fact.namespace):
        return None
    return fact if fact.sensitivity.level <= scope.max_sensitivity.level else None


class FactsMixin(PostgresCore):
    """``FactStore`` on PostgreSQL, plus the unchecked writers used by rollback, branch and merge."""

    async def _write_fact(
        self,
        conn: asyncpg.Connection,
        namespace: str,
        key: str,
        value: Any,
        sensitivity: Sensitivity,
        actor: str | None,
    ) -> Fact:
        """Create or replace a fact at the next version and log it (no version check; head locked)."""
        old = await _current(conn, namespace, key)
        now = utc_now()
        if old is None:
            last = await conn.fetchval(
                "SELECT max(version) FROM namespace_changes"
                " WHERE namespace = $1 AND item_type = 'fact' AND item_key = $2",
                namespace,
                key,
            )
            version = int(last or 0) + 1
            row = await conn.fetchrow(
                "INSERT INTO facts (namespace, key, value, version, sensitivity, created_by, updated_by,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7) RETURNING *",
                namespace,
                key,
                value,
                version,
                sensitivity.level,
                actor,
                now,
            )
        else:
            version = old.version + 1
            row = await conn.fetchrow(
                "UPDATE facts SET value = $3, version = $4, sensitivity = $5, updated_by = $6, updated_at = $7"
                " WHERE namespace = $1 AND key = $2 RETURNING *",
                namespace,
                key,
                value,
                version,
                sensitivity.level,
                actor,
                now,
            )
        await changelog.record(
            conn,
            namespace,
            "fact",
            key,
            "set",
            level=max(sensitivity.level, old.sensitivity.level if old else 0),
            actor=actor,
            version=version,
            before=None if old is None else fact_state_json(old.value, old.sensitivity, old.version),
            after=fact_state_json(value, sensitivity, version),
        )
        await self._notify(conn, "fact", f"{namespace}/{key}")
        return fact_from_row(row)

    async def _remove_fact(
        self, conn: asyncpg.Connection, namespace: str, key: str, actor: str | None
    ) -> Fact:
        """Delete a live fact and log it at the next version. Raises: NotFoundError."""
        old = await _current(conn, namespace, key)
        if old is None:
            raise NotFoundError("fact", f"{namespace}/{key}")
        await conn.execute("DELETE FROM facts WHERE namespace = $1 AND key = $2", namespace, key)
        await changelog.record(
            conn,
            namespace,
            "fact",
            key,
            "delete",
            level=old.sensitivity.level,
            actor=actor,
            version=old.version + 1,
            before=fact_state_json(old.value, old.sensitivity, old.version),
        )
        await self._notify(conn, "fact", f"{namespace}/{key}")
        return old

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
        """Compare-and-set a fact (see ``FactStore.set_fact``)."""
        scope = scope or Scope.unrestricted()
        validate_fact_address(namespace, key)
        validate_fact_value(value)
        check_fact_write(namespace, sensitivity, scope)
        async with self._transaction() as conn:
            await changelog.lock_head(conn, namespace)
            current = await _current(conn, namespace, key)
            if current is not None and current.sensitivity.level > scope.max_sensitivity.level:
                raise PermissionDeniedError(
                    f"fact {namespace}/{key} exists above the clearance of {scope.agent!r}; it cannot be written"
                )
            current_version = 0 if current is None else current.version
            expected = expected_version or 0
            if expected != current_version:
                raise ConflictError(
                    f"fact {namespace}/{key} is at version {current_version}, not {expected}; nothing was changed",
                    current_version=current_version,
                    current=current,
                )
            return await self._write_fact(conn, namespace, key, value, sensitivity, scope.agent)

    async def get_fact(self, namespace: str, key: str, *, scope: Scope | None = None) -> Fact:
        """Return a visible live fact. Raises: NotFoundError."""
        validate_fact_address(namespace, key)
        async with self._connection() as conn:
            fact = _visible(await _current(conn, namespace, key), scope or Scope.unrestricted())
        if fact is None:
            raise NotFoundError("fact", f"{namespace}/{key}")
        return fact

    async def delete_fact(
        self, namespace: str, key: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> Fact:
        """Delete a visible fact, if at ``expected_version`` when given."""
        scope = scope or Scope.unrestricted()
        validate_fact_address(namespace, key)
        async with self._transaction() as conn:
            await changelog.lock_head(conn, namespace)
            current = _visible(await _current(conn, namespace, key), scope)
            if current is None:
                raise NotFoundError("fact", f"{namespace}/{key}")
            check_fact_write(namespace, current.sensitivity, scope)
            if expected_version is not None and expected_version != current.version:
                raise ConflictError(
                    f"fact {namespace}/{key} is at version {current.version}, not {expected_version}; "
                    "nothing was changed",
                    current_version=current.version,
                    current=current,
                )
            return await self._remove_fact(conn, namespace, key, scope.agent)

    async def list_facts(
        self,
        namespace: str,
        *,
        prefix: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Fact]:
        """Visible live facts of a namespace by key. Raises: InvalidInputError (cursor)."""
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
        items = [fact_from_row(r) for r in rows[:size]]
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
        """A fact's changes newest first, within the scope."""
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
            FactChange(
                namespace=namespace,
                key=key,
                version=r["version"],
                value=None if r["after"] is None else r["after"]["value"],
                sensitivity=None if r["after"] is None else r["after"]["sensitivity"],
                deleted=r["after"] is None,
                changed_by=r["actor"],
                changed_at=r["changed_at"],
            )
            for r in rows
        ]
