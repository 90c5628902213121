"""Versioned facts on SQLite: compare-and-set writes, listing, and history read from the change log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

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
from storage.paging import clamp_limit, decode_cursor
from storage.scope import Scope
from storage.sqlite import changelog
from storage.sqlite.connection import Database
from storage.sqlite.rows import fetch_all, fetch_one, from_ts, make_page, to_json, ts
from storage.versioning import FactState, fact_state_json

__all__ = ["FactsMixin", "current_facts", "fact_from_row", "remove_fact", "write_fact"]

Row = dict[str, Any]


def fact_from_row(row: Row) -> Fact:
    """A ``facts`` row as a ``Fact``."""
    return Fact(
        namespace=row["namespace"],
        key=row["key"],
        value=json.loads(row["value"]),
        version=row["version"],
        sensitivity=row["sensitivity"],
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
    )


def _row(conn: apsw.Connection, namespace: str, key: str) -> Row | None:
    return fetch_one(conn, "SELECT * FROM facts WHERE namespace = ? AND key = ?", (namespace, key))


def _last_version(conn: apsw.Connection, namespace: str, key: str) -> int:
    row = fetch_one(
        conn,
        "SELECT MAX(version) AS v FROM namespace_changes"
        " WHERE namespace = ? AND item_type = 'fact' AND item_key = ?",
        (namespace, key),
    )
    return 0 if row is None or row["v"] is None else int(row["v"])


def write_fact(
    conn: apsw.Connection, namespace: str, key: str, value: Any, sensitivity: Sensitivity, actor: str | None
) -> Fact:
    """Create or replace a fact at the next version, logging the change (no version check)."""
    row = _row(conn, namespace, key)
    now = ts(utc_now())
    text = to_json(value, "a fact's value")
    if row is None:
        version = _last_version(conn, namespace, key) + 1
        conn.execute(
            "INSERT INTO facts (namespace, key, value, version, sensitivity, sensitivity_level, created_by,"
            " updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (namespace, key, text, version, sensitivity.value, sensitivity.level, actor, actor, now, now),
        )
        before = None
        level = sensitivity.level
    else:
        version = int(row["version"]) + 1
        conn.execute(
            "UPDATE facts SET value = ?, version = ?, sensitivity = ?, sensitivity_level = ?, updated_by = ?,"
            " updated_at = ? WHERE namespace = ? AND key = ?",
            (text, version, sensitivity.value, sensitivity.level, actor, now, namespace, key),
        )
        old = fact_from_row(row)
        before = fact_state_json(old.value, old.sensitivity, old.version)
        level = max(sensitivity.level, old.sensitivity.level)
    changelog.record(
        conn,
        namespace,
        "fact",
        key,
        "set",
        level=level,
        actor=actor,
        version=version,
        before=before,
        after=fact_state_json(value, sensitivity, version),
    )
    written = _row(conn, namespace, key)
    assert written is not None
    return fact_from_row(written)


def remove_fact(conn: apsw.Connection, namespace: str, key: str, actor: str | None) -> Fact:
    """Delete a live fact, logging it at the next version. Raises: NotFoundError."""
    row = _row(conn, namespace, key)
    if row is None:
        raise NotFoundError("fact", f"{namespace}/{key}")
    old = fact_from_row(row)
    conn.execute("DELETE FROM facts WHERE namespace = ? AND key = ?", (namespace, key))
    changelog.record(
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
    return old


def current_facts(
    conn: apsw.Connection, namespace: str, keys: Sequence[str]
) -> dict[str, tuple[FactState, int]]:
    """key -> (state, version) of the live facts among ``keys``."""
    found: dict[str, tuple[FactState, int]] = {}
    for key in keys:
        row = _row(conn, namespace, key)
        if row is not None:
            fact = fact_from_row(row)
            found[key] = (FactState(fact.value, fact.sensitivity), fact.version)
    return found


def _visible(row: Row | None, scope: Scope) -> Fact | None:
    if row is None or not scope.can_read(row["namespace"]):
        return None
    if int(row["sensitivity_level"]) > scope.max_sensitivity.level:
        return None
    return fact_from_row(row)


def set_fact(
    conn: apsw.Connection,
    namespace: str,
    key: str,
    value: Any,
    expected_version: int | None,
    sensitivity: Sensitivity,
    scope: Scope,
) -> Fact:
    """Compare-and-set a fact (see ``FactStore.set_fact``)."""
    validate_fact_address(namespace, key)
    validate_fact_value(value)
    check_fact_write(namespace, sensitivity, scope)
    row = _row(conn, namespace, key)
    if row is not None and int(row["sensitivity_level"]) > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"fact {namespace}/{key} exists above the clearance of {scope.agent!r}; it cannot be written"
        )
    current = None if row is None else fact_from_row(row)
    current_version = 0 if current is None else current.version
    expected = expected_version or 0
    if expected != current_version:
        raise ConflictError(
            f"fact {namespace}/{key} is at version {current_version}, not {expected}; nothing was changed",
            current_version=current_version,
            current=current,
        )
    return write_fact(conn, namespace, key, value, sensitivity, scope.agent)


def delete_fact(
    conn: apsw.Connection, namespace: str, key: str, expected_version: int | None, scope: Scope
) -> Fact:
    """Delete a fact if visible and (when given) at ``expected_version``."""
    validate_fact_address(namespace, key)
    current = _visible(_row(conn, namespace, key), scope)
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
    return remove_fact(conn, namespace, key, scope.agent)


def get_fact(conn: apsw.Connection, namespace: str, key: str, scope: Scope) -> Fact:
    """Return a visible live fact. Raises: NotFoundError."""
    validate_fact_address(namespace, key)
    fact = _visible(_row(conn, namespace, key), scope)
    if fact is None:
        raise NotFoundError("fact", f"{namespace}/{key}")
    return fact


def list_facts(
    conn: apsw.Connection, namespace: str, prefix: str | None, limit: int, cursor: str | None, scope: Scope
) -> Page[Fact]:
    """Visible live facts of a namespace by key. Raises: InvalidInputError (cursor)."""
    if not scope.can_read(namespace):
        return Page[Fact](items=[])
    where = "namespace = ? AND sensitivity_level <= ?"
    params: list[Any] = [namespace, scope.max_sensitivity.level]
    if prefix:
        where += " AND substr(key, 1, ?) = ?"
        params += [len(prefix), prefix]
    if cursor is not None:
        where += " AND key > ?"
        params.append(str(decode_cursor(cursor, 1)[0]))
    rows = fetch_all(conn, f"SELECT * FROM facts WHERE {where} ORDER BY key LIMIT ?", (*params, limit + 1))
    return make_page(rows, limit, fact_from_row, "key")


def fact_history(
    conn: apsw.Connection, namespace: str, key: str, limit: int, before_version: int | None, scope: Scope
) -> list[FactChange]:
    """A fact's changes newest first, within the scope."""
    validate_fact_address(namespace, key)
    if not scope.can_read(namespace):
        return []
    rows = fetch_all(
        conn,
        "SELECT version, after, actor, changed_at FROM namespace_changes"
        " WHERE namespace = ? AND item_type = 'fact' AND item_key = ? AND sensitivity_level <= ?"
        " AND version < ? ORDER BY seq DESC LIMIT ?",
        (namespace, key, scope.max_sensitivity.level, before_version or 2**62, limit),
    )
    changes = []
    for r in rows:
        after = None if r["after"] is None else json.loads(r["after"])
        changes.append(
            FactChange(
                namespace=namespace,
                key=key,
                version=r["version"],
                value=None if after is None else after["value"],
                sensitivity=None if after is None else after["sensitivity"],
                deleted=after is None,
                changed_by=r["actor"],
                changed_at=from_ts(r["changed_at"]),
            )
        )
    return changes


class FactsMixin:
    """``FactStore`` methods of ``SQLiteStore``: one ``Database`` transaction each."""

    _db: Database

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
        return await self._db.write(
            set_fact, namespace, key, value, expected_version, sensitivity, scope or Scope.unrestricted()
        )

    async def get_fact(self, namespace: str, key: str, *, scope: Scope | None = None) -> Fact:
        return await self._db.read(get_fact, namespace, key, scope or Scope.unrestricted())

    async def delete_fact(
        self, namespace: str, key: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> Fact:
        return await self._db.write(
            delete_fact, namespace, key, expected_version, scope or Scope.unrestricted()
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
        return await self._db.read(
            list_facts, namespace, prefix, clamp_limit(limit), cursor, scope or Scope.unrestricted()
        )

    async def fact_history(
        self,
        namespace: str,
        key: str,
        *,
        limit: int = 50,
        before_version: int | None = None,
        scope: Scope | None = None,
    ) -> list[FactChange]:
        return await self._db.read(
            fact_history, namespace, key, clamp_limit(limit), before_version, scope or Scope.unrestricted()
        )
