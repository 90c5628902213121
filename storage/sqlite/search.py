"""Hybrid search on SQLite (``SQLiteSearch``): FTS5 BM25 and exact cosine candidates, fused by RRF.

Both candidate lists apply every filter and the scope in their own WHERE clause
(``Params.search_conditions``), so nothing outside them is ever ranked or returned, and a top-k cut never
loses an allowed item. Lexical: FTS5 ranks its matches and only the best ``storage.ann.lexical_fetches``
are joined to ``search_docs`` and filtered (more when too few pass; the exact same top list). Vector: the
in-process index (``storage.ann``, ``storage.sqlite.vector_log``) when it is ready and the caller's
namespaces are not selective, else exact ``vec_distance_cosine`` (sqlite-vec) over every row passing the
WHERE. Pool size, sender boosts, fusion and hits are ``storage.queries.search``'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import apsw

from storage import search as hybrid
from storage.ann import lexical_fetches, namespace_fraction
from storage.models import SearchHit, SearchRequest
from storage.queries.search import SearchQueries, rank_plan
from storage.ranking import Candidate
from storage.scope import Scope
from storage.sqlite.core import SQLITE, SQLiteCore, run_sqlite_plan
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.meta import check_embedding_size
from storage.sqlite.rows import Row, fetch_all, from_ts, pack_embedding
from storage.sqlite.vector_log import ann_candidates
from storage.text import query_terms
from storage.vector_keeper import VectorIndexKeeper

__all__ = ["VECTOR_MODE", "SQLiteSearch", "fts_query"]

VECTOR_MODE = "usearch HNSW in process (exact sqlite-vec until ready or for selective filters)"

_COLUMNS = ", ".join(f"d.{c}" for c in hybrid.CANDIDATE_COLUMNS)


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression: the OR of the quoted terms of ``storage.text.query_terms``, or ``None``."""
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _lexical(
    conn: apsw.Connection,
    request: SearchRequest,
    scope: Scope | None,
    pool: int,
    keeper: VectorIndexKeeper | None,
) -> list[Candidate]:
    match = fts_query(request.query)
    if match is None:
        return []
    rows: list[Row] = []
    counts = keeper.namespace_counts if keeper is not None else {}
    fraction = namespace_fraction(counts, request, scope)[1] if counts else 1.0
    for fetch in lexical_fetches(pool, fraction):
        p = SQLiteParams(match)
        if fetch is None:  # every match, as a last resort
            source = (
                "search_fts JOIN search_docs AS d ON d.doc_id = search_fts.rowid WHERE search_fts MATCH ?"
            )
            order = "bm25(search_fts)"
        else:
            source = (
                "(SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ?"
                f" ORDER BY rank LIMIT {p.add(fetch)}) AS f JOIN search_docs AS d ON d.doc_id = f.rowid WHERE 1"
            )
            order = "f.rank"
        sql = (
            f"SELECT {_COLUMNS} FROM {source} AND {p.search_conditions(request, scope, 'd')}"
            f" ORDER BY {order}, d.item_type, d.item_id LIMIT {p.add(pool)}"
        )
        rows = fetch_all(conn, sql, p.values)
        if len(rows) >= pool:
            break
    return [hybrid.candidate(r, from_ts) for r in rows]


def _vector(
    conn: apsw.Connection,
    request: SearchRequest,
    scope: Scope | None,
    blob: bytes,
    pool: int,
    keeper: VectorIndexKeeper | None,
    exact_below: int,
) -> list[Candidate]:
    def read_back(doc_ids: list[int]) -> list[Row]:
        p = SQLiteParams(json.dumps(doc_ids))
        sql = (
            f"SELECT {_COLUMNS}, d.embedding FROM search_docs AS d"
            " WHERE d.doc_id IN (SELECT value FROM json_each(?)) AND d.embedding IS NOT NULL"
            f" AND {p.search_conditions(request, scope, 'd')}"
        )
        return fetch_all(conn, sql, p.values)

    rows = ann_candidates(conn, keeper, request, scope, blob, pool, read_back, exact_below=exact_below)
    if rows is None:
        p = SQLiteParams(blob)
        sql = (
            f"SELECT {_COLUMNS}, vec_distance_cosine(d.embedding, ?) AS distance FROM search_docs AS d"
            f" WHERE d.embedding IS NOT NULL AND {p.search_conditions(request, scope, 'd')}"
            f" ORDER BY distance, d.item_type, d.item_id LIMIT {p.add(pool)}"
        )
        rows = fetch_all(conn, sql, p.values)
    return [hybrid.candidate(r, from_ts) for r in rows]


def _search(
    conn: apsw.Connection,
    request: SearchRequest,
    query_embedding: Sequence[float] | None,
    scope: Scope | None,
    pool: int,
    configured_dimensions: int | None,
    keeper: VectorIndexKeeper | None,
    exact_below: int,
) -> list[SearchHit]:
    lexical = _lexical(conn, request, scope, pool, keeper)
    vector: list[Candidate] = []
    if query_embedding is not None:
        blob = pack_embedding(query_embedding)
        check_embedding_size(conn, len(blob) // 4, configured_dimensions, record=False)
        vector = _vector(conn, request, scope, blob, pool, keeper, exact_below)
    return run_sqlite_plan(conn, rank_plan(SQLITE, request, lexical, vector))


class SQLiteSearch(SearchQueries, SQLiteCore):
    """Candidates of ``search`` on SQLite: one read transaction per search."""

    _vector_keeper: VectorIndexKeeper | None  # storage.sqlite.vector_log.VectorIndexMixin
    ann_exact_below_rows: int

    async def _search(
        self, request: SearchRequest, query_embedding: Sequence[float] | None, scope: Scope | None, pool: int
    ) -> list[SearchHit]:
        return await self._db.read(
            _search,
            request,
            query_embedding,
            scope,
            pool,
            self._dims,
            self._vector_keeper,
            self.ann_exact_below_rows,
        )
