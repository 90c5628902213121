"""Versioned facts on SQLite: ``SQLiteFacts``, the compare-and-set writes (reads: ``storage.queries.facts``).

The rules (who may write, which version conflicts, what the change log records) are in
``storage.facts`` and ``storage.changelog``; this module holds the SQL. SQLite's single writer
serialises the read-check-write of each ``set_fact``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from storage.changelog import fact_deleted, fact_set
from storage.errors import NotFoundError
from storage.facts import FactWrite, next_fact_version
from storage.models import Fact, Sensitivity, utc_now
from storage.queries.facts import FactQueries
from storage.sqlite import changelog
from storage.sqlite.core import SQLiteCore
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, to_json, ts
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


def _write_fact(conn: apsw.Connection, write: FactWrite) -> Fact:
    write.check(_current(conn, write.namespace, write.key))
    if write.delete:
        return remove_fact(conn, write.namespace, write.key, write.scope.agent)
    return write_fact(conn, write.namespace, write.key, write.value, write.sensitivity, write.scope.agent)


class SQLiteFacts(FactQueries, SQLiteCore):
    """``FactStore``'s writes on SQLite: one ``Database`` write transaction each (the rest is ``FactQueries``)."""

    async def _write_fact(self, write: FactWrite) -> Fact:
        return await self._db.write(_write_fact, write)
