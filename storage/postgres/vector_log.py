"""PostgreSQL side of the in-process vector index: the ``vector_changes`` log, the source, the candidate SQL.

Used when the database has no pgvector (``exact-fallback`` mode): then the index replaces shipping every
filtered vector to Python. ``vector_changes`` (migration 0010) is filled by a trigger on ``search_docs``
and followed by transaction id: every row committed after a snapshot has ``xid >=
pg_snapshot_xmin(that snapshot)``, so the position is that xmin and a reader re-reads the few rows of
transactions that were in flight (idempotent: it takes each document's state from its own snapshot).
The rule of using the index is ``storage.ann``; the index is ``storage.vector_index``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from storage.ann import plan_search
from storage.models import SearchRequest
from storage.postgres.pool import search_path
from storage.scope import Scope
from storage.vector_index import ChangeBatch, VectorChange
from storage.vector_keeper import KeeperHolder, VectorIndexKeeper

__all__ = ["INLINE_CHANGES", "PostgresVectorSource", "VectorIndexMixin", "ann_candidates", "recent_keys"]

#: A search reads back at most this many documents changed since the index's position itself; beyond that
#: it ranks exactly and wakes the keeper.
INLINE_CHANGES = 2_000
#: More changed documents than this since the index's position (a reindex, a bulk import): rebuild.
REBUILD_ABOVE = 50_000

_SNAPSHOT_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


async def recent_keys(conn: asyncpg.Connection, cursor: int, limit: int) -> list[int] | None:
    """Documents changed at or after position ``cursor`` in this snapshot; ``None`` when over ``limit``."""
    rows = await conn.fetch(
        "SELECT DISTINCT doc_id FROM vector_changes WHERE xid >= $1::text::xid8 LIMIT $2",
        str(cursor),
        limit + 1,
    )
    return None if len(rows) > limit else [int(r["doc_id"]) for r in rows]


async def ann_candidates(
    conn: asyncpg.Connection,
    keeper: VectorIndexKeeper | None,
    request: SearchRequest,
    scope: Scope | None,
    query: bytes,
    pool: int,
    read_back: Callable[[list[int]], Awaitable[list[asyncpg.Record]]],
    *,
    exact_below: int,
) -> list[asyncpg.Record] | None:
    """Up to ``pool`` ``search_docs`` rows nearest to ``query`` through the index (``storage.ann``).

    ``read_back(doc_ids)``: the rows of those documents passing every filter and the scope, with their
    ``embedding``, read in this transaction. ``None``: rank exactly.
    """
    if keeper is None:
        return None
    index, cursor = keeper.snapshot()
    if index is None:
        return None
    recent = await recent_keys(conn, cursor, INLINE_CHANGES)
    if recent is None:
        keeper.poke()
        return None
    plan = plan_search(index, keeper.namespace_counts, request, scope, query, pool, recent, exact_below)
    while (keys := plan.keys()) is not None:
        plan.feed([(r, r["embedding"]) for r in await read_back(keys)])
    return None if plan.exact else plan.result


class PostgresVectorSource:
    """``VectorSource`` on its own connection and event loop (used from the keeper's thread only)."""

    def __init__(self, dsn: str, schema: str | None) -> None:
        self._dsn = dsn
        self._schema = schema
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: asyncpg.Connection | None = None
        #: ``seq`` of applied rows that the next read returns again (their transaction was running).
        self._seen: set[int] = set()

    def _run(self, query: str, *args: Any) -> list[asyncpg.Record]:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self._fetch(query, *args))

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        if self._conn is None:
            self._conn = await asyncpg.connect(
                self._dsn, server_settings={"search_path": search_path(self._schema)}, timeout=10
            )
        return list(await self._conn.fetch(query, *args))

    def dimensions(self) -> int | None:
        rows = self._run("SELECT length(embedding) AS n FROM search_docs WHERE embedding IS NOT NULL LIMIT 1")
        return int(rows[0]["n"]) // 4 if rows else None

    def head(self) -> int:
        self._seen = set()  # a (re)build starts over from this position
        return int(self._run(_SNAPSHOT_XMIN + " AS x")[0]["x"])

    def scan(self, after_key: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._run(
            "SELECT doc_id, embedding FROM search_docs WHERE doc_id > $1 AND embedding IS NOT NULL"
            " ORDER BY doc_id LIMIT $2",
            after_key,
            limit,
        )
        return [(int(r["doc_id"]), bytes(r["embedding"])) for r in rows]

    def changes(self, cursor: int, limit: int) -> ChangeBatch:
        """Rows with ``xid >= cursor`` not applied before (``_seen``), with their state, in one snapshot.

        Rows of transactions still running at the last read are read again; their ``seq`` is remembered so
        a long transaction holding ``xmin`` back does not make every round re-apply everything since.
        """
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self._changes(cursor))

    async def _changes(self, cursor: int) -> ChangeBatch:
        await self._fetch("SELECT 1")  # connect
        assert self._conn is not None
        async with self._conn.transaction(isolation="repeatable_read", readonly=True):
            xmin = int(await self._conn.fetchval(_SNAPSHOT_XMIN))
            logged = await self._conn.fetch(
                "SELECT seq, xid::text::bigint AS xid, doc_id FROM vector_changes WHERE xid >= $1::text::xid8",
                str(cursor),
            )
            doc_ids = sorted({int(r["doc_id"]) for r in logged if r["seq"] not in self._seen})
            if len(doc_ids) > REBUILD_ABOVE:
                return ChangeBatch((), cursor, restart=True)
            states = {
                int(r["doc_id"]): r["embedding"]
                for r in await self._conn.fetch(
                    "SELECT doc_id, embedding FROM search_docs WHERE doc_id = ANY($1::bigint[])", doc_ids
                )
            }
        self._seen = {int(r["seq"]) for r in logged if int(r["xid"]) >= xmin}
        changes = tuple(VectorChange(d, None if states.get(d) is None else bytes(states[d])) for d in doc_ids)
        return ChangeBatch(changes, xmin)

    def namespace_counts(self) -> dict[str | None, int]:
        rows = self._run("SELECT namespace, count(*) AS n FROM search_docs GROUP BY namespace")
        return {r["namespace"]: int(r["n"]) for r in rows}

    def close(self) -> None:
        if self._loop is None:
            return
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._conn.close())
        self._loop.close()
        self._loop = None
        self._conn = None


class VectorIndexMixin(KeeperHolder):
    """The store's keeper (exact-fallback mode only): started by ``open``, stopped by ``close``."""

    def _start_vector_index(self, dsn: str, schema: str | None) -> None:
        self._hold_keeper(VectorIndexKeeper(PostgresVectorSource(dsn, schema)))
