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

from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.errors import ConflictError, InvalidInputError
from storage.indexing import sender_label
from storage.models import ReindexItem, ReindexProgress, StagedEmbedding
from storage.postgres.core import PostgresCore
from storage.postgres.pool import quote_ident
from storage.postgres.rows import event_from_row, memory_from_row
from storage.postgres.vectors import _HNSW_INDEX as HNSW_INDEX
from storage.postgres.vectors import encode_embedding, ensure_hnsw_index, vector_literal

__all__ = ["ReindexMixin"]

TARGET_MODEL_KEY = "reindex_model"
TARGET_DIMENSIONS_KEY = "reindex_dimensions"


class ReindexMixin(PostgresCore):
    """``ReindexStore`` methods of the PostgreSQL backend."""

    async def begin_reindex(self, model: str, dimensions: int) -> ReindexProgress:
        if not model or not 1 <= dimensions <= 16_000:
            raise InvalidInputError("reindex needs a model name and dimensions in 1..16000")
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
                await _put_meta(conn, TARGET_MODEL_KEY, model)
                await _put_meta(conn, TARGET_DIMENSIONS_KEY, str(dimensions))
            return await _progress(conn, model, dimensions)

    async def reindex_batch(
        self, *, after: tuple[str, str] | None = None, limit: int = 64
    ) -> list[ReindexItem]:
        if not 1 <= limit <= 1000:
            raise InvalidInputError(f"limit must be in 1..1000, got {limit}")
        async with self._transaction("repeatable_read") as conn:
            await _require_target(conn)
            if after is None:
                keys = await conn.fetch(
                    "SELECT item_type, item_id FROM search_docs WHERE staged_embedding IS NULL"
                    " ORDER BY item_type, item_id LIMIT $1",
                    limit,
                )
            else:
                keys = await conn.fetch(
                    "SELECT item_type, item_id FROM search_docs WHERE staged_embedding IS NULL"
                    " AND (item_type, item_id) > ($1, $2) ORDER BY item_type, item_id LIMIT $3",
                    after[0],
                    after[1],
                    limit,
                )
            memory_ids = [k["item_id"] for k in keys if k["item_type"] == "memory"]
            event_ids = [k["item_id"] for k in keys if k["item_type"] == "event"]
            memories = {
                r["memory_id"]: memory_from_row(r)
                for r in await conn.fetch(
                    "SELECT * FROM memories WHERE memory_id = ANY($1::text[])", memory_ids
                )
            }
            events = {
                r["event_id"]: (
                    event_from_row(r),
                    sender_label(r["sender_display_name"], r["sender_address"], r["agent"]),
                )
                for r in await conn.fetch(
                    "SELECT e.*, i.display_name AS sender_display_name, (SELECT a.address FROM addresses AS a"
                    " WHERE a.identity_id = e.sender_identity_id ORDER BY a.addr_seq LIMIT 1) AS sender_address"
                    " FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
                    " WHERE e.event_id = ANY($1::text[])",
                    event_ids,
                )
            }
        items: list[ReindexItem] = []
        for key in keys:
            item_id = key["item_id"]
            if key["item_type"] == "memory" and item_id in memories:
                items.append(ReindexItem(item_type="memory", item_id=item_id, memory=memories[item_id]))
            elif key["item_type"] == "event" and item_id in events:
                event, sender = events[item_id]
                items.append(ReindexItem(item_type="event", item_id=item_id, event=event, sender=sender))
        return items

    async def stage_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        pgvector = self._vectors.mode == "pgvector-hnsw"
        async with self._transaction() as conn:
            _, dims = await _require_target(conn)
            rows = []
            for item in embeddings:
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
            model, dims = await _require_target(conn)
            progress = await _progress(conn, model, dims)
            if progress.staged < progress.items:
                raise ConflictError(
                    f"{progress.items - progress.staged} items have no staged vector yet (added during the "
                    "reindex): stage them, then finish again"
                )
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
                "DELETE FROM meta WHERE key = ANY($1::text[])", [TARGET_MODEL_KEY, TARGET_DIMENSIONS_KEY]
            )
            if pgvector:
                await ensure_hnsw_index(conn, self._schema, dims)
        self._dimensions = dims
        return progress

    async def reindex_progress(self) -> ReindexProgress | None:
        async with self._connection() as conn:
            target = await _target(conn)
            return None if target is None else await _progress(conn, *target)


async def _target(conn: asyncpg.Connection) -> tuple[str, int] | None:
    rows = await conn.fetch(
        "SELECT key, value FROM meta WHERE key = ANY($1::text[])", [TARGET_MODEL_KEY, TARGET_DIMENSIONS_KEY]
    )
    values = {r["key"]: r["value"] for r in rows}
    if TARGET_MODEL_KEY not in values or TARGET_DIMENSIONS_KEY not in values:
        return None
    return str(values[TARGET_MODEL_KEY]), int(values[TARGET_DIMENSIONS_KEY])


async def _require_target(conn: asyncpg.Connection) -> tuple[str, int]:
    target = await _target(conn)
    if target is None:
        raise InvalidInputError("no reindex is in progress: begin one first")
    return target


async def _progress(conn: asyncpg.Connection, model: str, dims: int) -> ReindexProgress:
    row = await conn.fetchrow("SELECT COUNT(*) AS items, COUNT(staged_embedding) AS staged FROM search_docs")
    assert row is not None
    return ReindexProgress(model=model, dimensions=dims, items=row["items"], staged=row["staged"])


async def _put_meta(conn: asyncpg.Connection, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2", key, value
    )
