"""Re-embedding on SQLite (``SQLiteReindex``): vectors staged in ``search_docs.staged_embedding``.

Each function runs inside one transaction opened by ``Database.read``/``write``; ``_finish_reindex`` runs
under the write lock (``BEGIN IMMEDIATE``), so no writer can add an item between its completeness check
and the switch. Vectors are float32 blobs ranked by ``vec_distance_cosine``: no index to rebuild. The
switch also forgets the old-model vectors the namespace change log keeps for rollbacks. The rules and the
shared statements are ``storage.reindex``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from storage import reindex as shared
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.models import ReindexItem, ReindexProgress, StagedEmbedding
from storage.search import records_sql
from storage.sqlite.core import SQLiteCore
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.meta import check_embedding_size, get_meta, set_meta
from storage.sqlite.rows import ROWS, Row, fetch_all, fetch_one, pack_embedding

__all__ = ["SQLiteReindex"]


def _target(conn: apsw.Connection) -> tuple[str, int] | None:
    return shared.target_of(
        {key: get_meta(conn, key) for key in (shared.TARGET_MODEL_KEY, shared.TARGET_DIMENSIONS_KEY)}
    )


def _progress(conn: apsw.Connection, model: str, dims: int) -> ReindexProgress:
    return shared.progress(model, dims, fetch_one(conn, shared.PROGRESS_SQL))


def _begin_reindex(conn: apsw.Connection, model: str, dimensions: int) -> ReindexProgress:
    shared.check_target(model, dimensions)
    if _target(conn) != (model, dimensions):
        conn.execute("UPDATE search_docs SET staged_embedding = NULL WHERE staged_embedding IS NOT NULL")
        set_meta(conn, shared.TARGET_MODEL_KEY, model)
        set_meta(conn, shared.TARGET_DIMENSIONS_KEY, str(dimensions))
    return _progress(conn, model, dimensions)


def _reindex_batch(conn: apsw.Connection, after: tuple[str, str] | None, limit: int) -> list[ReindexItem]:
    shared.check_batch_limit(limit)
    shared.require_target(_target(conn))
    p = SQLiteParams()
    return _items(conn, fetch_all(conn, shared.batch_keys_sql(p, after, limit), p.values))


def _unembedded_batch(conn: apsw.Connection, limit: int) -> list[ReindexItem]:
    shared.check_batch_limit(limit)
    p = SQLiteParams()
    return _items(conn, fetch_all(conn, shared.unembedded_keys_sql(p, limit), p.values))


def _fill_embeddings(
    conn: apsw.Connection, embeddings: Sequence[StagedEmbedding], configured_dimensions: int | None
) -> int:
    filled = 0
    for item in embeddings:
        blob = pack_embedding(item.embedding)
        check_embedding_size(conn, len(blob) // 4, configured_dimensions, record=True)
        conn.execute(
            "UPDATE search_docs SET embedding = ? WHERE item_type = ? AND item_id = ? AND embedding IS NULL",
            (blob, item.item_type, item.item_id),
        )
        filled += conn.changes()
    return filled


def _items(conn: apsw.Connection, keys: list[Row]) -> list[ReindexItem]:
    """The memories and events (with senders) of ``keys``, in key order."""
    p = SQLiteParams()
    sql = records_sql(p, "memory", [k["item_id"] for k in keys if k["item_type"] == "memory"])
    memories = {r["memory_id"]: ROWS.memory(r) for r in (fetch_all(conn, sql, p.values) if sql else [])}
    p = SQLiteParams()
    sql = shared.events_with_sender_sql(p, [k["item_id"] for k in keys if k["item_type"] == "event"])
    rows = fetch_all(conn, sql, p.values) if sql else []
    events = {r["event_id"]: (ROWS.event(r), shared.sender_of(r)) for r in rows}
    return shared.reindex_items(keys, memories, events)


def _stage_embeddings(conn: apsw.Connection, embeddings: Sequence[StagedEmbedding]) -> int:
    _, dims = shared.require_target(_target(conn))
    staged = 0
    for item in embeddings:
        blob = pack_embedding(item.embedding)
        shared.check_staged_size(item.item_type, item.item_id, len(blob) // 4, dims)
        conn.execute(
            "UPDATE search_docs SET staged_embedding = ? WHERE item_type = ? AND item_id = ?",
            (blob, item.item_type, item.item_id),
        )
        staged += conn.changes()
    return staged


def _finish_reindex(conn: apsw.Connection) -> ReindexProgress:
    model, dims = shared.require_target(_target(conn))
    done = _progress(conn, model, dims)
    shared.check_complete(done)
    conn.execute("UPDATE search_docs SET embedding = staged_embedding, staged_embedding = NULL")
    # Vectors kept by the change log for rollbacks are of the old model: a restored memory gets none
    # (and a vector from the next reindex) rather than one of another model.
    conn.execute("UPDATE namespace_changes SET before_embedding = NULL WHERE before_embedding IS NOT NULL")
    set_meta(conn, EMBEDDING_MODEL_KEY, model)
    set_meta(conn, EMBEDDING_DIMENSIONS_KEY, str(dims))
    conn.execute(
        "DELETE FROM meta WHERE key IN (?, ?)", (shared.TARGET_MODEL_KEY, shared.TARGET_DIMENSIONS_KEY)
    )
    return done


def _reindex_progress(conn: apsw.Connection) -> ReindexProgress | None:
    target = _target(conn)
    return None if target is None else _progress(conn, *target)


class SQLiteReindex(SQLiteCore):
    """``ReindexStore`` of the SQLite backend: each method runs one function above in one transaction."""

    async def begin_reindex(self, model: str, dimensions: int) -> ReindexProgress:
        return await self._db.write(_begin_reindex, model, dimensions)

    async def reindex_batch(
        self, *, after: tuple[str, str] | None = None, limit: int = 64
    ) -> list[ReindexItem]:
        return await self._db.read(_reindex_batch, after, limit)

    async def stage_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        return await self._db.write(_stage_embeddings, list(embeddings))

    async def finish_reindex(self) -> ReindexProgress:
        return await self._db.write(_finish_reindex)

    async def reindex_progress(self) -> ReindexProgress | None:
        return await self._db.read(_reindex_progress)

    async def unembedded_batch(self, *, limit: int = 64) -> list[ReindexItem]:
        return await self._db.read(_unembedded_batch, limit)

    async def fill_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        return await self._db.write(_fill_embeddings, list(embeddings), self._dims)
