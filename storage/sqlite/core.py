"""``SQLiteCore``: the state every area mixin of ``SQLiteStore`` shares.

An area mixin (``SQLiteFacts``, ``SQLiteGraph``...) subclasses ``SQLiteCore`` and implements its part of
the ``MemoryStore`` contract by handing a module-level function ``fn(conn, *args)`` to
``self._db.write`` (one ``BEGIN IMMEDIATE`` transaction on the writer) or ``self._db.read`` (one read
snapshot on a reader); ``Database`` runs it in a worker thread. The shared read methods of
``storage.queries`` run their statements through ``_fetch`` (a reader). ``SQLiteStore`` composes the
mixins.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, TypeVar

import apsw

from storage.contracts.store import MemoryStore
from storage.queries.plan import Plan, run_plan
from storage.queries.reader import Dialect, Reader
from storage.rows import Row
from storage.sqlite.connection import Database
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.rows import ROWS as SQLITE_ROWS
from storage.sqlite.rows import fetch_all

T = TypeVar("T")

#: The dialect plans of ``storage.queries`` are given here.
SQLITE = Dialect(SQLiteParams, SQLITE_ROWS)

__all__ = ["SQLITE", "SQLiteCore", "run_sqlite_plan"]


def run_sqlite_plan(conn: apsw.Connection, plan: Plan[T]) -> T:
    """Run a read plan (``storage.queries.plan``) on ``conn``, inside the caller's transaction."""
    return run_plan(plan, lambda sql, values: fetch_all(conn, sql, values))


class SQLiteCore(Reader, MemoryStore):
    """Base of ``SQLiteStore``: the file's connections and the configured embedding size."""

    backend = "sqlite"
    PARAMS = SQLiteParams
    ROWS = SQLITE_ROWS

    def __init__(self, db: Database, embedding_dimensions: int | None) -> None:
        """Wrap an opened ``Database``.

        Args:
            db: the file's connections (opened and migrated).
            embedding_dimensions: the configured embedding size, used until the store records one.
        """
        self._db = db
        self._dims = embedding_dimensions
        #: Identifies this instance in the change feed, so its own followers skip its topics.
        self._origin = secrets.token_hex(8)

    async def _read(self, plan: Plan[T]) -> T:
        """Run a read plan on a reader connection, every statement in its one snapshot."""
        return await self._db.read(run_sqlite_plan, plan)

    async def _write(self, plan: Plan[T]) -> T:
        """Run a plan in one ``BEGIN IMMEDIATE`` transaction on the writer."""
        return await self._db.write(run_sqlite_plan, plan)

    async def _fetch(self, sql: str, values: Sequence[Any]) -> list[Row]:
        """Run one read statement on a reader connection (its own snapshot); every row."""
        rows: list[Row] = list(await self._db.read(fetch_all, sql, list(values)))
        return rows
