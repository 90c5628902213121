"""Re-embedding of the PostgreSQL backend (``ReindexStore``): vectors staged beside the live ones.

Staged vectors go to ``search_docs.staged_embedding`` (bytea, migration 0006) and, with pgvector, to
``staged_embedding_vec`` (added on first use, as ``embedding_vec`` is). ``finish_reindex`` takes a
``SHARE ROW EXCLUSIVE`` lock on ``search_docs`` (readers go on, writers wait), checks every item has a
staged vector, swaps the columns, records the model and size in ``meta``, and rebuilds the HNSW index
for the new size, and forgets the old-model vectors the namespace change log keeps for rollbacks, all in
one transaction: DDL is transactional in PostgreSQL, so a failure leaves the
old vectors, index and meta in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage import reindex as shared
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.models import ReindexItem, ReindexProgress, StagedEmbedding
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.pool import quote_ident
from storage.postgres.rows import ROWS
from storage.postgres.vectors import HNSW_INDEX, encode_embedding, ensure_hnsw_index, vector_literal
from storage.search import records_sql

__all__ = ["PostgresReindex"]


class PostgresReindex(PostgresCore):
    """``ReindexStore`` of the PostgreSQL backend."""

    async def begin_reindex(self, model: str, dimensions: int) -> ReindexProgress:
        shared.check_target(model, dimensions)
        pgvector = self._vectors.mode == "pgvector-hnsw"
        async with self._transaction() as conn:
            if pgvector:
                vector_type = f"{quote_ident(self._vectors.extension_schema or 'public')}.vector"
                await conn.execute(
                    f"ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS staged_embedding_vec {vector_type}"
                )
            if await _target(conn) != (model, dimensions):
                extra = ", staged_embedding_vec = NULL" if pgvector else ""
                await conn.execute(
                    f"UPDATE search_docs SET staged_embedding = NULL{extra} WHERE staged_embedding IS NOT NULL"
                )
                await _put_meta(conn, shared.TARGET_MODEL_KEY, model)
                await _put_meta(conn, shared.TARGET_DIMENSIONS_KEY, str(dimensions))
            return await _progress(conn, model, dimensions)

    async def reindex_batch(
        self, *, after: tuple[str, str] | None = None, limit: int = 64
    ) -> list[ReindexItem]:
        shared.check_batch_limit(limit)
        async with self._transaction("repeatable_read") as conn:
            shared.require_target(await _target(conn))
            p = PostgresParams()
            return await _items(conn, await conn.fetch(shared.batch_keys_sql(p, after, limit), *p.values))

    async def unembedded_batch(self, *, limit: int = 64) -> list[ReindexItem]:
        shared.check_batch_limit(limit)
        async with self._transaction("repeatable_read") as conn:
            p = PostgresParams()
            return await _items(conn, await conn.fetch(shared.unembedded_keys_sql(p, limit), *p.values))

    async def fill_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        blobs = [await self._encode(item.embedding) for item in embeddings]
        pgvector = self._vectors.mode == "pgvector-hnsw"
        filled = 0
        async with self._transaction() as conn:
            for item, blob in zip(embeddings, blobs, strict=True):
                assert blob is not None
                extra = ", embedding_vec = $4::text::vector" if pgvector else ""
                values = [item.item_type, item.item_id, blob, *([vector_literal(blob)] if pgvector else [])]
                status = await conn.execute(
                    f"UPDATE search_docs SET embedding = $3{extra}"
                    " WHERE item_type = $1 AND item_id = $2 AND embedding IS NULL",
                    *values,
                )
                filled += int(status.split()[-1])
        return filled

    async def stage_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        pgvector = self._vectors.mode == "pgvector-hnsw"
        async with self._transaction() as conn:
            _, dims = shared.require_target(await _target(conn))
            rows = []
            for item in embeddings:
                shared.check_staged_size(item.item_type, item.item_id, len(item.embedding), dims)
                blob = encode_embedding(item.embedding, dims)
                rows.append((item.item_type, item.item_id, blob, vector_literal(blob) if pgvector else None))
            staged = 0
            for item_type, item_id, blob, literal in rows:
                if pgvector:
                    status = await conn.execute(
                        "UPDATE search_docs SET staged_embedding = $3, staged_embedding_vec = $4::text::vector"
                        " WHERE item_type = $1 AND item_id = $2",
                        item_type,
                        item_id,
                        blob,
                        literal,
                    )
                else:
                    status = await conn.execute(
                        "UPDATE search_docs SET staged_embedding = $3 WHERE item_type = $1 AND item_id = $2",
                        item_type,
                        item_id,
                        blob,
                    )
                staged += int(status.split()[-1])
            return staged

    async def finish_reindex(self) -> ReindexProgress:
        pgvector = self._vectors.mode == "pgvector-hnsw"
        async with self._transaction() as conn:
            await conn.execute("LOCK TABLE search_docs IN SHARE ROW EXCLUSIVE MODE")
            model, dims = shared.require_target(await _target(conn))
            done = await _progress(conn, model, dims)
            shared.check_complete(done)
            if pgvector:
                await conn.execute(f"DROP INDEX IF EXISTS {HNSW_INDEX}")
                await conn.execute(
                    "UPDATE search_docs SET embedding = staged_embedding, staged_embedding = NULL,"
                    " embedding_vec = staged_embedding_vec, staged_embedding_vec = NULL"
                )
            else:
                await conn.execute(
                    "UPDATE search_docs SET embedding = staged_embedding, staged_embedding = NULL"
                )
            # Vectors kept by the change log for rollbacks are of the old model: forget them.
            await conn.execute(
                "UPDATE namespace_changes SET before_embedding = NULL WHERE before_embedding IS NOT NULL"
            )
            await _put_meta(conn, EMBEDDING_MODEL_KEY, model)
            await _put_meta(conn, EMBEDDING_DIMENSIONS_KEY, str(dims))
            await conn.execute(
                "DELETE FROM meta WHERE key = ANY($1::text[])",
                [shared.TARGET_MODEL_KEY, shared.TARGET_DIMENSIONS_KEY],
            )
        if pgvector:
            # After the swap commits: built in the swap's own transaction, the index would also read the old
            # row versions (their vectors of the old size no longer cast to ``vector(dims)``).
            async with self._connection() as conn:
                await ensure_hnsw_index(conn, self._schema, dims)
        self._dimensions = dims
        return done

    async def reindex_progress(self) -> ReindexProgress | None:
        async with self._connection() as conn:
            target = await _target(conn)
            return None if target is None else await _progress(conn, *target)


async def _items(conn: asyncpg.Connection, keys: Sequence[asyncpg.Record]) -> list[ReindexItem]:
    """The memories and events (with senders) of ``keys``, in key order."""
    p = PostgresParams()
    sql = records_sql(p, "memory", [k["item_id"] for k in keys if k["item_type"] == "memory"])
    rows = await conn.fetch(sql, *p.values) if sql else []
    memories = {r["memory_id"]: ROWS.memory(r) for r in rows}
    p = PostgresParams()
    sql = shared.events_with_sender_sql(p, [k["item_id"] for k in keys if k["item_type"] == "event"])
    rows = await conn.fetch(sql, *p.values) if sql else []
    events = {r["event_id"]: (ROWS.event(r), shared.sender_of(r)) for r in rows}
    return shared.reindex_items(keys, memories, events)


async def _target(conn: asyncpg.Connection) -> tuple[str, int] | None:
    rows = await conn.fetch(
        "SELECT key, value FROM meta WHERE key = ANY($1::text[])",
        [shared.TARGET_MODEL_KEY, shared.TARGET_DIMENSIONS_KEY],
    )
    return shared.target_of({r["key"]: r["value"] for r in rows})


async def _progress(conn: asyncpg.Connection, model: str, dims: int) -> ReindexProgress:
    return shared.progress(model, dims, await conn.fetchrow(shared.PROGRESS_SQL))


async def _put_meta(conn: asyncpg.Connection, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2", key, value
    )
