"""Hybrid search on SQLite (``SQLiteSearch``): FTS5 BM25 and exact cosine candidates, fused by RRF.

Both candidate lists apply every filter and the scope in their own WHERE clause
(``Params.search_conditions``), so nothing outside them is ever ranked or returned, and a top-k cut never
loses an allowed item. Vector search is exact: ``vec_distance_cosine`` (sqlite-vec) over every row passing
the WHERE. Pool size, sender boosts, fusion and hits are ``storage.search``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from storage import search as hybrid
from storage.models import SearchHit, SearchRequest
from storage.ranking import Candidate, FusedCandidate
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.meta import check_embedding_size
from storage.sqlite.rows import ROWS, Row, fetch_all, from_ts, pack_embedding
from storage.text import query_terms

__all__ = ["VECTOR_MODE", "SQLiteSearch", "fts_query"]

VECTOR_MODE = "exact (sqlite-vec vec_distance_cosine)"

_COLUMNS = ", ".join(f"d.{c}" for c in hybrid.CANDIDATE_COLUMNS)


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression: the OR of the quoted terms of ``storage.text.query_terms``, or ``None``."""
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _lexical(
    conn: apsw.Connection, request: SearchRequest, scope: Scope | None, pool: int
) -> list[Candidate]:
    match = fts_query(request.query)
    if match is None:
        return []
    p = SQLiteParams(match)
    sql = (
        f"SELECT {_COLUMNS} FROM search_fts JOIN search_docs AS d ON d.doc_id = search_fts.rowid"
        f" WHERE search_fts MATCH ? AND {p.search_conditions(request, scope, 'd')}"
        f" ORDER BY bm25(search_fts), d.item_type, d.item_id LIMIT {p.add(pool)}"
    )
    return [hybrid.candidate(r, from_ts) for r in fetch_all(conn, sql, p.values)]


def _vector(
    conn: apsw.Connection, request: SearchRequest, scope: Scope | None, blob: bytes, pool: int
) -> list[Candidate]:
    p = SQLiteParams(blob)
    sql = (
        f"SELECT {_COLUMNS}, vec_distance_cosine(d.embedding, ?) AS distance FROM search_docs AS d"
        f" WHERE d.embedding IS NOT NULL AND {p.search_conditions(request, scope, 'd')}"
        f" ORDER BY distance, d.item_type, d.item_id LIMIT {p.add(pool)}"
    )
    return [hybrid.candidate(r, from_ts) for r in fetch_all(conn, sql, p.values)]


def _search(
    conn: apsw.Connection,
    request: SearchRequest,
    query_embedding: Sequence[float] | None,
    scope: Scope | None,
    configured_dimensions: int | None,
) -> list[SearchHit]:
    pool = hybrid.candidate_pool(request.limit)
    lexical = _lexical(conn, request, scope, pool)
    vector: list[Candidate] = []
    if query_embedding is not None:
        blob = pack_embedding(query_embedding)
        check_embedding_size(conn, len(blob) // 4, configured_dimensions, record=False)
        vector = _vector(conn, request, scope, blob, pool)
    p = SQLiteParams()
    senders = hybrid.sender_sql(p, request, [*lexical, *vector])
    boosts = hybrid.sender_boosts(request, fetch_all(conn, senders, p.values)) if senders else {}
    fused = hybrid.fuse_request(request, lexical, vector, boosts)
    memories = {r["memory_id"]: ROWS.memory(r) for r in _records(conn, "memory", fused)}
    events = {r["event_id"]: ROWS.event(r) for r in _records(conn, "event", fused)}
    return hybrid.hits(fused, memories, events)


def _records(conn: apsw.Connection, item_type: str, fused: Sequence[FusedCandidate]) -> list[Row]:
    p = SQLiteParams()
    sql = hybrid.records_sql(p, item_type, hybrid.item_ids(fused, item_type))
    return fetch_all(conn, sql, p.values) if sql else []


class SQLiteSearch(SQLiteCore):
    """``search`` of the SQLite backend: one read transaction per search."""

    async def search(
        self,
        request: SearchRequest,
        query_embedding: Sequence[float] | None = None,
        *,
        scope: Scope | None = None,
    ) -> list[SearchHit]:
        return await self._db.read(_search, request, query_embedding, scope, self._dims)
