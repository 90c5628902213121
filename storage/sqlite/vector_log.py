"""SQLite side of the in-process vector index: the ``vector_changes`` log, the source, the candidate SQL.

``vector_changes`` (migration 0010) is filled by triggers on ``search_docs``; its ``seq`` is
AUTOINCREMENT, assigned under SQLite's single write lock, so positions are gapless and in commit order
and ``seq > cursor`` read in any snapshot returns exactly the changes that snapshot holds beyond the
cursor. The rule of using the index is ``storage.ann``; the index is ``storage.vector_index``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw

from storage.ann import plan_search
from storage.models import SearchRequest
from storage.scope import Scope
from storage.sqlite.rows import fetch_all, fetch_one
from storage.vector_index import ChangeBatch, VectorChange
from storage.vector_keeper import KeeperHolder, VectorIndexKeeper

__all__ = [
    "INLINE_CHANGES",
    "SQLiteVectorSource",
    "VectorIndexMixin",
    "ann_candidates",
    "changes",
    "head",
    "recent_keys",
]

#: A search reads back at most this many documents changed since the index's position itself; beyond that
#: it ranks exactly and wakes the keeper (a bulk import or a reindex by another process).
INLINE_CHANGES = 2_000


def head(conn: apsw.Connection) -> int:
    """The position of the newest committed change (0 when none was ever logged)."""
    row = fetch_one(conn, "SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'")
    return 0 if row is None else int(row["seq"])


def changes(conn: apsw.Connection, cursor: int, limit: int) -> ChangeBatch:
    """The documents changed after ``cursor`` (at most ``limit`` log rows), with their state now."""
    rows = fetch_all(
        conn, "SELECT seq, doc_id FROM vector_changes WHERE seq > ? ORDER BY seq LIMIT ?", (cursor, limit + 1)
    )
    if rows and rows[0]["seq"] > cursor + 1 and cursor > 0:
        return ChangeBatch((), cursor, restart=True)  # the log was pruned past the cursor
    if not rows:
        last = head(conn)
        return ChangeBatch((), cursor, restart=last > cursor and cursor > 0)
    complete = len(rows) <= limit
    rows = rows[:limit]
    doc_ids = sorted({r["doc_id"] for r in rows})
    states = {
        r["doc_id"]: r["embedding"]
        for r in fetch_all(
            conn,
            "SELECT doc_id, embedding FROM search_docs WHERE doc_id IN (SELECT value FROM json_each(?))",
            (json.dumps(doc_ids),),
        )
    }
    found = tuple(VectorChange(d, states.get(d)) for d in doc_ids)
    return ChangeBatch(found, int(rows[-1]["seq"]), complete=complete)


def recent_keys(conn: apsw.Connection, cursor: int, limit: int) -> list[int] | None:
    """Documents changed after ``cursor`` in this snapshot; ``None`` when more than ``limit``."""
    rows = fetch_all(
        conn, "SELECT DISTINCT doc_id FROM vector_changes WHERE seq > ? LIMIT ?", (cursor, limit + 1)
    )
    return None if len(rows) > limit else [int(r["doc_id"]) for r in rows]


def ann_candidates(
    conn: apsw.Connection,
    keeper: VectorIndexKeeper | None,
    request: SearchRequest,
    scope: Scope | None,
    query: bytes,
    pool: int,
    read_back: Callable[[list[int]], list[dict[str, Any]]],
    *,
    exact_below: int,
) -> list[dict[str, Any]] | None:
    """Up to ``pool`` ``search_docs`` rows nearest to ``query`` through the index (``storage.ann``).

    ``read_back(doc_ids)``: the rows of those documents that pass every filter and the scope, each with
    its ``embedding``, read in this transaction. ``None``: the exact SQL ranking must run (no ready
    index, a selective filter, too far behind). Every returned row passed ``read_back``'s WHERE.
    """
    if keeper is None:
        return None
    index, cursor = keeper.snapshot()
    if index is None:
        return None
    recent = recent_keys(conn, cursor, INLINE_CHANGES)
    if recent is None:
        keeper.poke()
        return None
    plan = plan_search(index, keeper.namespace_counts, request, scope, query, pool, recent, exact_below)
    while (keys := plan.keys()) is not None:
        plan.feed([(r, r["embedding"]) for r in read_back(keys)])
    return None if plan.exact else plan.result


class SQLiteVectorSource:
    """``VectorSource`` on its own read-only connection to the file (used by the keeper's thread only)."""

    def __init__(self, path: Path, busy_timeout_seconds: float) -> None:
        self._path = path
        self._busy_ms = int(busy_timeout_seconds * 1000)
        self._conn: apsw.Connection | None = None

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return fetch_all(self._connection(), sql, params)

    def _connection(self) -> apsw.Connection:
        if self._conn is None:
            from storage.sqlite.connection import dict_row

            conn = apsw.Connection(str(self._path), flags=apsw.SQLITE_OPEN_READONLY)
            conn.set_busy_timeout(self._busy_ms)
            conn.set_row_trace(dict_row)
            self._conn = conn
        return self._conn

    def dimensions(self) -> int | None:
        rows = self._read(
            "SELECT length(embedding) AS n FROM search_docs WHERE embedding IS NOT NULL LIMIT 1"
        )
        return int(rows[0]["n"]) // 4 if rows else None

    def head(self) -> int:
        return head(self._connection())

    def scan(self, after_key: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._read(
            "SELECT doc_id, embedding FROM search_docs WHERE doc_id > ? AND embedding IS NOT NULL"
            " ORDER BY doc_id LIMIT ?",
            (after_key, limit),
        )
        return [(int(r["doc_id"]), bytes(r["embedding"])) for r in rows]

    def changes(self, cursor: int, limit: int) -> ChangeBatch:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            return changes(conn, cursor, limit)
        finally:
            conn.execute("COMMIT")

    def namespace_counts(self) -> dict[str | None, int]:
        rows = self._read("SELECT namespace, count(*) AS n FROM search_docs GROUP BY namespace")
        return {r["namespace"]: int(r["n"]) for r in rows}

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(apsw.Error):
                self._conn.close()
            self._conn = None


class VectorIndexMixin(KeeperHolder):
    """The store's keeper: started by ``open`` in the background, stopped by ``close``.

    The index is saved beside the database (``<file>.vectors.json`` and the file it names) at close, so
    the next start loads it and replays only the log since.
    """

    def _start_vector_index(self, path: Path, busy_timeout_seconds: float) -> None:
        save = path.with_name(path.name + ".vectors.json")
        self._hold_keeper(VectorIndexKeeper(SQLiteVectorSource(path, busy_timeout_seconds), save_path=save))
