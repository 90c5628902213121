"""Re-embedding of the SQLite backend (``ReindexStore``): vectors staged in ``search_docs.staged_embedding``.

Each function runs inside one transaction opened by ``Database.read``/``write``; ``finish_reindex`` runs
under the write lock (``BEGIN IMMEDIATE``), so no writer can add an item between its completeness check
and the switch. Vectors are float32 blobs ranked by ``vec_distance_cosine``: no index to rebuild. The
switch also forgets the old-model vectors the namespace change log keeps for rollbacks.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.contracts.store import MemoryStore
from storage.errors import ConflictError, InvalidInputError
from storage.indexing import sender_label
from storage.models import Event, Memory, ReindexItem, ReindexProgress, StagedEmbedding
from storage.sqlite.connection import Database
from storage.sqlite.meta import get_meta, set_meta
from storage.sqlite.rows import event_from_row, fetch_all, fetch_one, memory_from_row, pack_embedding

__all__ = [
    "ReindexMixin",
    "begin_reindex",
    "finish_reindex",
    "reindex_batch",
    "reindex_progress",
    "stage_embeddings",
]

TARGET_MODEL_KEY = "reindex_model"
TARGET_DIMENSIONS_KEY = "reindex_dimensions"


def _target(conn: apsw.Connection) -> tuple[str, int] | None:
    model = get_meta(conn, TARGET_MODEL_KEY)
    dims = get_meta(conn, TARGET_DIMENSIONS_KEY)
    return None if model is None or dims is None else (model, int(dims))


def _require_target(conn: apsw.Connection) -> tuple[str, int]:
    target = _target(conn)
    if target is None:
        raise InvalidInputError("no reindex is in progress: begin one first")
    return target


def _progress(conn: apsw.Connection, model: str, dims: int) -> ReindexProgress:
    row = fetch_one(conn, "SELECT COUNT(*) AS items, COUNT(staged_embedding) AS staged FROM search_docs", ())
    assert row is not None
    return ReindexProgress(model=model, dimensions=dims, items=row["items"], staged=row["staged"])


def begin_reindex(conn: apsw.Connection, model: str, dimensions: int) -> ReindexProgress:
    """Record the target; keep staged vectors for the same target, discard them for another."""
    if not model or not 1 <= dimensions <= 16_000:
        raise InvalidInputError("reindex needs a model name and dimensions in 1..16000")
    if _target(conn) != (model, dimensions):
        conn.execute("UPDATE search_docs SET staged_embedding = NULL WHERE staged_embedding IS NOT NULL")
        set_meta(conn, TARGET_MODEL_KEY, model)
        set_meta(conn, TARGET_DIMENSIONS_KEY, str(dimensions))
    return _progress(conn, model, dimensions)


def reindex_batch(conn: apsw.Connection, after: tuple[str, str] | None, limit: int) -> list[ReindexItem]:
    """Up to ``limit`` items without a staged vector, by ``(item_type, item_id)`` after ``after``."""
    _require_target(conn)
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"limit must be in 1..1000, got {limit}")
    sql = "SELECT item_type, item_id FROM search_docs WHERE staged_embedding IS NULL"
    params: tuple[object, ...] = ()
    if after is not None:
        sql += " AND (item_type, item_id) > (?, ?)"
        params = (after[0], after[1])
    keys = fetch_all(conn, sql + " ORDER BY item_type, item_id LIMIT ?", (*params, limit))
    memory_ids = [k["item_id"] for k in keys if k["item_type"] == "memory"]
    event_ids = [k["item_id"] for k in keys if k["item_type"] == "event"]
    memories: dict[str, Memory] = {}
    if memory_ids:
        marks = ", ".join("?" * len(memory_ids))
        for row in fetch_all(conn, f"SELECT * FROM memories WHERE memory_id IN ({marks})", memory_ids):
            memories[row["memory_id"]] = memory_from_row(row)
    events: dict[str, tuple[Event, str | None]] = {}
    if event_ids:
        marks = ", ".join("?" * len(event_ids))
        sql = (
            "SELECT e.*, i.display_name AS sender_display_name, (SELECT a.address FROM addresses AS a"
            " WHERE a.identity_id = e.sender_identity_id ORDER BY a.addr_seq LIMIT 1) AS sender_address"
            " FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
            f" WHERE e.event_id IN ({marks})"
        )
        for row in fetch_all(conn, sql, event_ids):
            sender = sender_label(row["sender_display_name"], row["sender_address"], row["agent"])
            events[row["event_id"]] = (event_from_row(row), sender)
    items: list[ReindexItem] = []
    for key in keys:
        item_id = key["item_id"]
        if key["item_type"] == "memory" and item_id in memories:
            items.append(ReindexItem(item_type="memory", item_id=item_id, memory=memories[item_id]))
        elif key["item_type"] == "event" and item_id in events:
            event, sender = events[item_id]
            items.append(ReindexItem(item_type="event", item_id=item_id, event=event, sender=sender))
    return items


def stage_embeddings(conn: apsw.Connection, embeddings: Sequence[StagedEmbedding]) -> int:
    """Store the staged vectors (all or none); return how many items exist and took one."""
    _, dims = _require_target(conn)
    staged = 0
    for item in embeddings:
        blob = pack_embedding(item.embedding)
        if len(blob) // 4 != dims:
            raise InvalidInputError(
                f"the staged embedding of {item.item_type} {item.item_id} has {len(blob) // 4} dimensions; "
                f"the reindex target has {dims}"
            )
        conn.execute(
            "UPDATE search_docs SET staged_embedding = ? WHERE item_type = ? AND item_id = ?",
            (blob, item.item_type, item.item_id),
        )
        staged += conn.changes()
    return staged


def finish_reindex(conn: apsw.Connection) -> ReindexProgress:
    """Switch to the staged vectors and record the target as the store's model (one transaction)."""
    model, dims = _require_target(conn)
    progress = _progress(conn, model, dims)
    if progress.staged < progress.items:
        raise ConflictError(
            f"{progress.items - progress.staged} items have no staged vector yet (added during the "
            "reindex): stage them, then finish again"
        )
    conn.execute("UPDATE search_docs SET embedding = staged_embedding, staged_embedding = NULL")
    # Vectors kept by the change log for rollbacks are of the old model: a restored memory gets none
    # (and a vector from the next reindex) rather than one of another model.
    conn.execute("UPDATE namespace_changes SET before_embedding = NULL WHERE before_embedding IS NOT NULL")
    set_meta(conn, EMBEDDING_MODEL_KEY, model)
    set_meta(conn, EMBEDDING_DIMENSIONS_KEY, str(dims))
    conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (TARGET_MODEL_KEY, TARGET_DIMENSIONS_KEY))
    return progress


def reindex_progress(conn: apsw.Connection) -> ReindexProgress | None:
    """The unfinished reindex, or ``None``."""
    target = _target(conn)
    return None if target is None else _progress(conn, *target)


class ReindexMixin(MemoryStore):
    """``ReindexStore`` methods of the SQLite backend: each runs one function above in one transaction."""

    _db: Database

    async def begin_reindex(self, model: str, dimensions: int) -> ReindexProgress:
        return await self._db.write(begin_reindex, model, dimensions)

    async def reindex_batch(
        self, *, after: tuple[str, str] | None = None, limit: int = 64
    ) -> list[ReindexItem]:
        return await self._db.read(reindex_batch, after, limit)

    async def stage_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        return await self._db.write(stage_embeddings, list(embeddings))

    async def finish_reindex(self) -> ReindexProgress:
        return await self._db.write(finish_reindex)

    async def reindex_progress(self) -> ReindexProgress | None:
        return await self._db.read(reindex_progress)
