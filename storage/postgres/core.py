"""``PostgresCore``: the state every area mixin of ``PostgresStore`` shares.

An area mixin (``PostgresFacts``, ``PostgresGraph``...) subclasses ``PostgresCore`` and implements its
part of the ``MemoryStore`` contract with the pool's connections (``_connection``, ``_transaction``);
the shared read methods of ``storage.queries`` run their statements through ``_fetch``.
``PostgresStore`` composes the mixins. The core also keeps the embedding size and the search documents,
which several areas write.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar

import asyncpg

from storage.contracts.store import MemoryStore
from storage.errors import InvalidInputError
from storage.postgres.errors import map_driver_errors
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS as POSTGRES_ROWS
from storage.postgres.vectors import VectorSupport, encode_embedding, ensure_hnsw_index, vector_literal
from storage.queries.plan import Plan, run_plan_async
from storage.queries.reader import Dialect, Reader
from storage.rows import Row

__all__ = ["DIMENSIONS_KEY", "POSTGRES", "PostgresCore", "parse_dimensions", "run_postgres_plan"]

T = TypeVar("T")

#: The dialect plans of ``storage.queries`` are given here.
POSTGRES = Dialect(PostgresParams, POSTGRES_ROWS)

#: ``meta`` key recording the embedding size of the store (float32 values per vector).
DIMENSIONS_KEY = "embedding_dimensions"

Isolation = Literal["read_committed", "repeatable_read", "serializable"]


async def run_postgres_plan(conn: asyncpg.Connection, plan: Plan[T]) -> T:
    """Run a read plan (``storage.queries.plan``) on ``conn``, inside the caller's transaction if any."""

    async def fetch(sql: str, values: Sequence[Any]) -> Sequence[Row]:
        rows: list[Row] = await conn.fetch(sql, *values)
        return rows

    return await run_plan_async(plan, fetch)


class PostgresCore(Reader, MemoryStore):
    """Base of ``PostgresStore``: holds the pool and the helpers the per-area mixins share."""

    backend = "postgres"
    PARAMS = PostgresParams
    ROWS = POSTGRES_ROWS

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        dsn: str,
        schema: str | None,
        vectors: VectorSupport,
        min_size: int,
        max_size: int,
    ) -> None:
        """Wrap an opened pool.

        Args:
            pool: connections whose search path starts with ``schema``.
            dsn: the database URL, for the change feed's own connections; never logged.
            schema: the schema holding the tables (``None``: ``public``).
            vectors: what the database offers for vector search (``detect_vector_support``).
            min_size, max_size: the pool's bounds (for ``describe``).
        """
        self._pool = pool
        self._dsn = dsn
        self._schema = schema
        self._vectors = vectors
        self._dimensions: int | None = None
        self._min_size = min_size
        self._max_size = max_size
        self._closed = False
        #: Identifies this instance in the change feed, so its own followers skip its topics.
        self._origin = secrets.token_hex(8)

    @property
    def _schema_name(self) -> str:
        return self._schema or "public"

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; driver errors inside the block are mapped to ``StorageError`` types."""
        with map_driver_errors():
            async with self._pool.acquire() as conn:
                yield conn

    @asynccontextmanager
    async def _transaction(
        self, isolation: Isolation = "read_committed"
    ) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside one transaction, committed when the block exits normally."""
        with map_driver_errors():
            async with self._pool.acquire() as conn, conn.transaction(isolation=isolation):
                yield conn

    async def _read(self, plan: Plan[T]) -> T:
        """Run a read plan in one REPEATABLE READ transaction (one snapshot for all its statements)."""
        async with self._transaction("repeatable_read") as conn:
            return await run_postgres_plan(conn, plan)

    async def _write(self, plan: Plan[T]) -> T:
        """Run a plan in one REPEATABLE READ transaction (its reads see one snapshot)."""
        async with self._transaction("repeatable_read") as conn:
            return await run_postgres_plan(conn, plan)

    async def _fetch(self, sql: str, values: Sequence[Any]) -> list[Row]:
        """Run one read statement on a pooled connection; every row (``asyncpg.Record`` mappings)."""
        async with self._connection() as conn:
            rows: list[Row] = await conn.fetch(sql, *values)
        return rows

    # --- embeddings ----------------------------------------------------------------------------------

    async def _load_dimensions(self, conn: asyncpg.Connection) -> int | None:
        if self._dimensions is None:
            value = await conn.fetchval("SELECT value FROM meta WHERE key = $1", DIMENSIONS_KEY)
            if value is not None:
                self._dimensions = parse_dimensions(str(value))
        return self._dimensions

    async def _ensure_dimensions(self, size: int) -> int:
        """Record ``size`` as the store's embedding size if none is recorded; return the recorded size.

        Raises:
            InvalidInputError: another size is recorded.
        """
        async with self._transaction() as conn:
            self._dimensions = None  # re-read: a reindex in another process may have changed it
            known = await self._load_dimensions(conn)
            if known is None:
                await conn.execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    DIMENSIONS_KEY,
                    str(size),
                )
                self._dimensions = None
                known = await self._load_dimensions(conn)
        if known != size:
            raise InvalidInputError(
                f"the embedding has {size} dimensions but this store uses {known}: "
                "use the store's embedding model"
            )
        if self._vectors.mode == "pgvector-hnsw":
            async with self._connection() as conn:
                await ensure_hnsw_index(conn, self._schema, size)
        return size

    async def _encode(self, embedding: Sequence[float] | None) -> bytes | None:
        """Check an embedding against the store's size (recording it on first use) and encode it.

        Raises:
            InvalidInputError: wrong size or non-finite values.
        """
        if embedding is None:
            return None
        if self._dimensions is None or self._dimensions != len(embedding):
            await self._ensure_dimensions(len(embedding))
        assert self._dimensions is not None
        return encode_embedding(embedding, self._dimensions)

    # --- search documents ----------------------------------------------------------------------------

    async def _put_search_doc(
        self,
        conn: asyncpg.Connection,
        *,
        item_type: str,
        item_id: str,
        namespace: str | None,
        session_id: str | None,
        room_id: str | None,
        kind: str,
        tags: list[str],
        metadata: dict[str, Any],
        sensitivity: int,
        importance: float,
        item_at: datetime,
        body: str,
        embedding: bytes | None,
    ) -> None:
        """Insert the search document of one item (in the caller's transaction)."""
        values: list[Any] = [
            item_type,
            item_id,
            namespace,
            session_id,
            room_id,
            kind,
            tags,
            metadata,
            sensitivity,
            importance,
            item_at,
            body,
            embedding,
        ]
        columns = "item_type, item_id, namespace, session_id, room_id, kind, tags, metadata, sensitivity,"
        columns += " importance, item_at, text, embedding"
        placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
        if self._vectors.mode == "pgvector-hnsw":
            columns += ", embedding_vec"
            values.append(None if embedding is None else vector_literal(embedding))
            placeholders += f", ${len(values)}::text::vector"
        await conn.execute(f"INSERT INTO search_docs ({columns}) VALUES ({placeholders})", *values)


def parse_dimensions(value: str) -> int:
    """A recorded or requested embedding size. Raises: InvalidInputError (not an integer in 1..16000)."""
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= 16_000:
        raise InvalidInputError(f"embedding_dimensions must be an integer in 1..16000, got {value!r}")
    return size
