"""Export and import of whole tables on PostgreSQL: the primitives of ``storage.portability.PortableRows``.

The SQL is built once, backend-neutrally, by ``PortableRows`` with ``?`` placeholders; here they become
``$n``, and here are the asyncpg calls: declared column types (``information_schema.columns`` of the
store's schema), reads, and many inserts in one transaction counting the rows they added. After an
import of search documents, their pgvector copy (``embedding_vec``) is filled from the imported
``embedding`` and the recorded embedding size is re-read (with its HNSW index).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from storage.portability import PortableRows, Statement
from storage.postgres.core import PostgresCore
from storage.postgres.vectors import ensure_hnsw_index, vector_literal

__all__ = ["PostgresPortability"]

_MARK = re.compile(r"\?")
#: Rows of ``embedding_vec`` filled per statement after an import.
_VECTOR_FILL_BATCH = 500


def _numbered(sql: str) -> str:
    """``?`` placeholders as ``$1, $2, ...`` (the neutral SQL holds no other ``?``)."""
    counter = iter(range(1, sql.count("?") + 1))
    return _MARK.sub(lambda _: f"${next(counter)}", sql)


def _inserted(status: str) -> int:
    """Rows inserted according to a command status (``INSERT 0 1``)."""
    parts = status.split()
    return int(parts[-1]) if parts and parts[0] == "INSERT" else 0


class PostgresPortability(PortableRows, PostgresCore):
    """``PortabilityStore`` of ``PostgresStore``."""

    async def _port_columns(self, table: str) -> dict[str, str]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT column_name, data_type, udt_name FROM information_schema.columns"
                " WHERE table_schema = $1 AND table_name = $2",
                self._schema_name,
                table,
            )
        return {str(r["column_name"]): f"{r['data_type']} {r['udt_name']}".lower() for r in rows}

    async def _port_fetch(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            rows = await conn.fetch(_numbered(sql), *params)
        return [dict(row) for row in rows]

    async def _port_execute(self, statements: Sequence[Statement]) -> int:
        inserted = 0
        async with self._transaction() as conn:
            for sql, params in statements:
                inserted += _inserted(await conn.execute(_numbered(sql), *params))
        return inserted

    async def _port_after_import(self, table: str) -> None:
        if table == "meta":
            async with self._connection() as conn:
                self._dimensions = None
                dimensions = await self._load_dimensions(conn)
                if dimensions is not None and self._vectors.mode == "pgvector-hnsw":
                    await ensure_hnsw_index(conn, self._schema, dimensions)
        if table != "search_docs" or self._vectors.mode != "pgvector-hnsw":
            return
        while True:
            async with self._transaction() as conn:
                rows = await conn.fetch(
                    "SELECT item_type, item_id, embedding FROM search_docs"
                    " WHERE embedding IS NOT NULL AND embedding_vec IS NULL LIMIT $1",
                    _VECTOR_FILL_BATCH,
                )
                for row in rows:
                    await conn.execute(
                        "UPDATE search_docs SET embedding_vec = $3::text::vector"
                        " WHERE item_type = $1 AND item_id = $2",
                        row["item_type"],
                        row["item_id"],
                        vector_literal(bytes(row["embedding"])),
                    )
            if len(rows) < _VECTOR_FILL_BATCH:
                return
