"""Versioned facts on SQLite: ``SQLiteFacts`` (compare-and-set writes, listing, history).

The rules (who may write, which version conflicts, what the change log records) are in
``storage.facts`` and ``storage.changelog``; this module holds the SQL. SQLite's single writer
serialises the read-check-write of each ``set_fact``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

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
from storage.paging import clamp_limit, decode_cursor
from storage.scope import Scope
from storage.sqlite import changelog
from storage.sqlite.core import SQLiteCore
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, from_ts, make_page, to_json, ts
from storage.versioning import FactState

__all__ = ["SQLiteFacts", "current_facts", "remove_fact", "write_fact"]


def _row(conn: apsw.Connection, namespace: str, key: str) -> dict[str, Any] | None:
    return fetch_one(conn, "SELECT * FROM facts WHERE namespace = ? AND key = ?", (namespace, key))


def _current(conn: apsw.Connection, namespace: str, key: str) -> Fact | None:
    row = _row(conn, namespace, key)
    return None if row is None else ROWS.fact(row)


def write_fact(
    conn: apsw.Connection, namespace: str, key: str, value: Any, sensitivity: Sensitivity, actor: str | None
) -> Fact:
    """Create or replace a fact at the next version, logging the change (no version check)."""
    old = _current(conn, namespace, key)
    version = next_fact_version(old, 0 if old else changelog.last_fact_version(conn, namespace, key))
    now = ts(utc_now())
    conn.execute(
        "INSERT INTO facts (namespace, key, value, version, sensitivity, created_by, updated_by, created_at,"
        " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?7) ON CONFLICT (namespace, key) DO UPDATE"
        " SET value = ?3, version = ?4, sensitivity = ?5, updated_by = ?6, updated_at = ?7",
        (namespace, key, to_json(value, "a fact's value"), version, sensitivity.level, actor, now),
    )
    changelog.record(conn, fact_set(namespace, key, value, sensitivity, version, old, actor))
    written = _current(conn, namespace, key)
    assert written is not None
    return written


def remove_fact(conn: apsw.Connection, namespace: str, key: str, actor: str | None) -> Fact:
    """Delete a live fact, logging it at the next version. Raises: NotFoundError."""
    old = _current(conn, namespace, key)
    if old is None:
        raise NotFoundError("fact", f"{namespace}/{key}")
    conn.execute("DELETE FROM facts WHERE namespace = ? AND key = ?", (namespace, key))
    changelog.record(conn, fact_deleted(old, actor))
    return old


def current_facts(
    conn: apsw.Connection, namespace: str, keys: Sequence[str] | None = None
) -> dict[str, tuple[FactState, int]]:
    """key -> (state, version) of the namespace's live facts (all, or those among ``keys``)."""
    if keys is None:
        rows = fetch_all(conn, "SELECT * FROM facts WHERE namespace = ?", (namespace,))
    else:
        rows = [r for k in keys if (r := _row(conn, namespace, k)) is not None]
    facts = [ROWS.fact(r) for r in rows]
    return {f.key: (FactState(f.value, f.sensitivity), f.version) for f in facts}


def _set_fact(
    conn: apsw.Connection,
    namespace: str,
    key: str,
    value: Any,
    expected_version: int | None,
    sensitivity: Sensitivity,
    scope: Scope,
) -> Fact:
    check_fact_set(namespace, key, _current(conn, namespace, key), expected_version, scope)
    return write_fact(conn, namespace, key, value, sensitivity, scope.agent)


def _delete_fact(
    conn: apsw.Connection, namespace: str, key: str, expected_version: int | None, scope: Scope
) -> Fact:
    check_fact_delete(namespace, key, _current(conn, namespace, key), expected_version, scope)
    return remove_fact(conn, namespace, key, scope.agent)


def _get_fact(conn: apsw.Connection, namespace: str, key: str, scope: Scope) -> Fact | None:
    return visible_fact(_current(conn, namespace, key), scope)


def _list_facts(
    conn: apsw.Connection, namespace: str, prefix: str | None, limit: int, cursor: str | None, scope: Scope
) -> Page[Fact]:
    where = "namespace = ? AND sensitivity <= ?"
    params: list[Any] = [namespace, scope.max_sensitivity.level]
    if prefix:
        where += " AND substr(key, 1, ?) = ?"
        params += [len(prefix), prefix]
    if cursor is not None:
        where += " AND key > ?"
        params.append(str(decode_cursor(cursor, 1)[0]))
    rows = fetch_all(conn, f"SELECT * FROM facts WHERE {where} ORDER BY key LIMIT ?", (*params, limit + 1))
    return make_page(rows, limit, ROWS.fact, "key")


def _fact_history(
    conn: apsw.Connection, namespace: str, key: str, limit: int, before_version: int | None, ceiling: int
) -> list[FactChange]:
    rows = fetch_all(
        conn,
        "SELECT version, after, actor, changed_at FROM namespace_changes"
        " WHERE namespace = ? AND item_type = 'fact' AND item_key = ? AND sensitivity <= ?"
        " AND version < ? ORDER BY seq DESC LIMIT ?",
        (namespace, key, ceiling, before_version or 2**62, limit),
    )
    return [
        fact_change(
            namespace,
            key,
            r["version"],
            None if r["after"] is None else json.loads(r["after"]),
            r["actor"],
            from_ts(r["changed_at"]),
        )
        for r in rows
    ]


class SQLiteFacts(SQLiteCore):
    """``FactStore`` on SQLite: one ``Database`` transaction per method."""

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
        return await self._db.write(_set_fact, namespace, key, value, expected_version, sensitivity, scope)

    async def get_fact(self, namespace: str, key: str, *, scope: Scope | None = None) -> Fact:
        validate_fact_address(namespace, key)
        fact = await self._db.read(_get_fact, namespace, key, scope or Scope.unrestricted())
        if fact is None:
            raise NotFoundError("fact", f"{namespace}/{key}")
        return fact

    async def delete_fact(
        self, namespace: str, key: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> Fact:
        validate_fact_address(namespace, key)
        return await self._db.write(
            _delete_fact, namespace, key, expected_version, scope or Scope.unrestricted()
        )

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
        return await self._db.read(_list_facts, namespace, prefix, clamp_limit(limit), cursor, scope)

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
        return await self._db.read(
            _fact_history,
            namespace,
            key,
            clamp_limit(limit),
            before_version,
            scope.max_sensitivity.level,
        )
