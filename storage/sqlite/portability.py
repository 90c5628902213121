"""Export and import of whole tables on SQLite: the primitives of ``storage.portability.PortableRows``.

The SQL is built once, backend-neutrally, by ``PortableRows``; here are only the apsw calls: the declared
column types (``PRAGMA table_info``), a read in one snapshot, and many inserts in one ``BEGIN IMMEDIATE``
transaction counting the rows they added (``sqlite3_changes``: rows the statement itself inserted, not
those of triggers such as the FTS5 index's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from storage.portability import PortableRows, Statement
from storage.sqlite.connection import Database

__all__ = ["SQLitePortability"]


def _columns(conn: apsw.Connection, table: str) -> dict[str, str]:
    quoted = '"' + table.replace('"', '""') + '"'
    return {
        str(row["name"]): str(row["type"]).lower() for row in conn.execute(f"PRAGMA table_info({quoted})")
    }


def _fetch(conn: apsw.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return list(conn.execute(sql, params))


def _execute(conn: apsw.Connection, statements: list[Statement]) -> int:
    inserted = 0
    for sql, params in statements:
        conn.execute(sql, list(params))
        inserted += conn.changes()
    return inserted


class SQLitePortability(PortableRows):
    """``PortabilityStore`` of ``SQLiteStore``."""

    _db: Database

    async def _port_columns(self, table: str) -> dict[str, str]:
        return await self._db.read(_columns, table)

    async def _port_fetch(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        return await self._db.read(_fetch, sql, list(params))

    async def _port_execute(self, statements: Sequence[Statement]) -> int:
        return await self._db.write(_execute, list(statements))
