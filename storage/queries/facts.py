"""``FactQueries``: the ``FactStore`` methods written once; a backend gives only its two write transactions.

Reads (``get_fact``, ``list_facts``, ``fact_history``) run here through ``Reader._fetch``. A write checks
its input here, then ``_write_fact`` reads the live fact under the backend's write lock (SQLite's single
writer, PostgreSQL's namespace head row lock), applies ``FactWrite.check`` (``storage.facts``) and logs
the change in the same transaction.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from storage.changelog import fact_change
from storage.contracts.facts import FactStore
from storage.errors import NotFoundError
from storage.facts import FactWrite, visible_fact
from storage.models import (
    Fact,
    FactChange,
    Page,
    Sensitivity,
    check_fact_write,
    validate_fact_address,
    validate_fact_value,
)
from storage.paging import clamp_limit, decode_cursor
from storage.queries.reader import Reader, page_of
from storage.scope import Scope

__all__ = ["FactQueries"]


class FactQueries(Reader, FactStore):
    """``FactStore``: reads here, writes checked here and run by ``_write_fact``."""

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
        return await self._write_fact(
            FactWrite(namespace, key, expected_version, scope, False, value, sensitivity)
        )

    async def delete_fact(
        self, namespace: str, key: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> Fact:
        validate_fact_address(namespace, key)
        return await self._write_fact(
            FactWrite(namespace, key, expected_version, scope or Scope.unrestricted(), True)
        )

    @abstractmethod
    async def _write_fact(self, write: FactWrite) -> Fact:
        """Run ``write`` in one write transaction: read the live fact under the write lock,
        ``write.check`` it, then write or delete it at the next version and log the change.

        Returns:
            The fact written, or the fact as it was before a delete.

        Raises:
            NotFoundError, ConflictError, PermissionDeniedError: from ``write.check``.
        """

    async def get_fact(self, namespace: str, key: str, *, scope: Scope | None = None) -> Fact:
        validate_fact_address(namespace, key)
        p = self.PARAMS()
        p.require(f"namespace = {p.add(namespace)}", f"key = {p.add(key)}")
        row = await self._fetch_one(f"SELECT * FROM facts WHERE {p.sql()}", p.values)
        fact = visible_fact(None if row is None else self.ROWS.fact(row), scope or Scope.unrestricted())
        if fact is None:
            raise NotFoundError("fact", f"{namespace}/{key}")
        return fact

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
        p = self.PARAMS()
        p.require(f"namespace = {p.add(namespace)}", p.at_most("sensitivity", scope.max_sensitivity.level))
        if prefix:
            p.require(f"substr(key, 1, {p.add(len(prefix))}) = {p.add(prefix)}")
        if cursor is not None:
            p.require(f"{p.binary_order('key')} > {p.add(str(decode_cursor(cursor, 1)[0]))}")
        rows = await self._fetch(
            f"SELECT * FROM facts WHERE {p.sql()} ORDER BY {p.binary_order('key')} LIMIT {p.add(size + 1)}",
            p.values,
        )
        return page_of(rows, size, self.ROWS.fact, lambda r: (r["key"],))

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
        p = self.PARAMS()
        p.require(
            f"namespace = {p.add(namespace)}",
            "item_type = 'fact'",
            f"item_key = {p.add(key)}",
            p.at_most("sensitivity", scope.max_sensitivity.level),
        )
        if before_version is not None:
            p.require(f"version < {p.add(before_version)}")
        rows = await self._fetch(
            "SELECT version, after, actor, changed_at FROM namespace_changes"
            f" WHERE {p.sql()} ORDER BY seq DESC LIMIT {p.add(clamp_limit(limit))}",
            p.values,
        )
        return [
            fact_change(
                namespace,
                key,
                r["version"],
                None if r["after"] is None else self.ROWS.load_json(r["after"]),
                r["actor"],
                self.ROWS.load_time(r["changed_at"]),
            )
            for r in rows
        ]
