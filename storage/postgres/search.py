"""Hybrid search: lexical and vector candidates filtered in SQL, fused by RRF, records loaded.

Lexical: the query's terms (``storage.text.query_terms``) are OR-ed into one ``to_tsquery('english',
...)`` (each term quoted as a phrase), matched against ``search_docs.tsv`` through its GIN index and
ranked by ``ts_rank(tsv, q, 1)`` (term frequency, divided by 1 + log of the document length: the closest
built-in to the BM25 of FTS5), ties by ``(item_type, item_id)``. Measured on LoCoMo turns indexed with
their neighbours (``storage.indexing``), lexical recall@10: ``ts_rank`` 0.716 with this normalisation,
0.708 without; cover density ``ts_rank_cd`` 0.547 (it rewards documents holding many query terms close
together, which an OR of a question's words rarely has); FTS5 BM25 0.726.
Lexical is bounded: ``ts_rank`` scores only the ``storage.ann.LEXICAL_RANK_ROWS`` newest matching rows
(through the GIN index and the WHERE), so its cost stays flat as the store grows; a query matching more
rows than that ranks the newest of them.
Vector: without pgvector the in-process index (``storage.ann``, ``storage.postgres.vector_log``) when it
is ready and the namespaces are not selective, else the exact NumPy ranking; see
``storage.postgres.vectors``; in ``pgvector-hnsw`` mode a filter that leaves fewer than
``EXACT_BELOW_ROWS`` documents is ranked exactly by pgvector in the server (no index scan). Both lists see the
same WHERE clause (every filter and the scope, ``Params.search_conditions``), take
``storage.search.candidate_pool`` items, and meet in ``storage.search.fuse_request``. Everything is read in one REPEATABLE READ read-only transaction, so the records
returned are those that were ranked.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage import search as hybrid
from storage.ann import LEXICAL_RANK_ROWS
from storage.errors import InvalidInputError
from storage.models import SearchHit, SearchRequest
from storage.postgres.core import POSTGRES, PostgresCore, run_postgres_plan
from storage.postgres.filters import PostgresParams
from storage.postgres.vector_log import ann_candidates
from storage.postgres.vectors import encode_embedding, exact_candidates, hnsw_candidates, row_candidate
from storage.queries.search import SearchQueries, rank_plan
from storage.ranking import Candidate
from storage.scope import Scope
from storage.text import query_terms
from storage.vector_keeper import VectorIndexKeeper

__all__ = ["EXACT_BELOW_ROWS", "PostgresSearch", "tsquery_text"]

#: In ``pgvector-hnsw`` mode, filters leaving fewer documents than this are ranked exactly (sequential
#: scan, pgvector distance in the server). An iterative HNSW scan stops after ``hnsw.max_scan_tuples``
#: (20,000) visited tuples, so on a large store a very selective filter could miss matching rows, and a
#: filter matching almost nothing makes it walk the graph for little (pgvector 0.8.1 / PG 18, 10k x 384:
#: 36 ms iterative against 22 ms exact). Counting stops at this many rows.
EXACT_BELOW_ROWS = 500


def tsquery_text(query: str) -> str | None:
    """``to_tsquery`` text OR-ing the query's terms, each single-quoted; ``None`` when there are none.

    Terms are ``\\w+`` runs, so they hold no quote or backslash; quoting keeps ``to_tsquery`` from reading
    any of them as an operator.
    """
    terms = query_terms(query)
    if not terms:
        return None
    return " | ".join("'" + t.replace("'", "''").replace("\\", "\\\\") + "'" for t in terms)


class PostgresSearch(SearchQueries, PostgresCore):
    """Candidates of ``search`` on PostgreSQL: full text and pgvector (the pipeline is ``SearchQueries``)."""

    #: See ``EXACT_BELOW_ROWS`` (an attribute so a test can force either vector path).
    exact_below_rows: int = EXACT_BELOW_ROWS
    _vector_keeper: VectorIndexKeeper | None
    ann_exact_below_rows: int

    async def _search(
        self, request: SearchRequest, query_embedding: Sequence[float] | None, scope: Scope | None, pool: int
    ) -> list[SearchHit]:
        query_blob = await self._query_blob(query_embedding)
        async with self._transaction("repeatable_read") as conn:
            lexical = await self._lexical(conn, request, scope, pool)
            vector: list[Candidate] = []
            if query_blob is not None:
                vector = await self._vector(conn, request, scope, query_blob, pool)
            return await run_postgres_plan(conn, rank_plan(POSTGRES, request, lexical, vector))

    async def _query_blob(self, query_embedding: Sequence[float] | None) -> bytes | None:
        """The encoded query vector (``None`` without one, or while the store has no vectors)."""
        if query_embedding is None:
            return None
        async with self._connection() as conn:
            dims = await self._load_dimensions(conn)
            if dims is not None and dims != len(query_embedding):
                self._dimensions = None  # re-read: a reindex in another process may have changed it
                dims = await self._load_dimensions(conn)
        if dims is not None:
            return encode_embedding(query_embedding, dims)
        if not query_embedding:
            raise InvalidInputError("the query embedding is empty")
        return None

    async def _lexical(
        self, conn: asyncpg.Connection, request: SearchRequest, scope: Scope | None, k: int
    ) -> list[Candidate]:
        text = tsquery_text(request.query)
        if text is None:
            return []
        p = PostgresParams(text)
        columns = ", ".join(hybrid.CANDIDATE_COLUMNS)
        rows = await conn.fetch(
            f"SELECT {columns}, ts_rank(tsv, q, 1) AS rank FROM ("
            f" SELECT {columns}, tsv FROM search_docs WHERE tsv @@ to_tsquery('english', $1)"
            f" AND {p.search_conditions(request, scope)} ORDER BY item_at DESC LIMIT {int(LEXICAL_RANK_ROWS)}"
            ") AS m, to_tsquery('english', $1) AS q"
            f" ORDER BY rank DESC, item_type, item_id LIMIT {int(k)}",
            *p.values,
        )
        return [row_candidate(r) for r in rows]

    async def _vector(
        self, conn: asyncpg.Connection, request: SearchRequest, scope: Scope | None, blob: bytes, k: int
    ) -> list[Candidate]:
        p = PostgresParams()
        where = p.search_conditions(request, scope)
        if self._vectors.mode != "pgvector-hnsw":

            async def read_back(doc_ids: list[int]) -> list[asyncpg.Record]:
                q = PostgresParams(doc_ids)
                return list(
                    await conn.fetch(
                        f"SELECT {', '.join(hybrid.CANDIDATE_COLUMNS)}, embedding FROM search_docs"
                        " WHERE doc_id = ANY($1::bigint[]) AND embedding IS NOT NULL"
                        f" AND {q.search_conditions(request, scope)}",
                        *q.values,
                    )
                )

            rows = await ann_candidates(
                conn,
                self._vector_keeper,
                request,
                scope,
                blob,
                k,
                read_back,
                exact_below=self.ann_exact_below_rows,
            )
            if rows is not None:
                return [row_candidate(r) for r in rows]
            return await exact_candidates(conn, where, p.values, blob, k)
        assert self._dimensions is not None
        selective = not await _at_least(conn, where, p.values, self.exact_below_rows)
        return await hnsw_candidates(
            conn,
            where,
            p.values,
            blob,
            k,
            dimensions=self._dimensions,
            support=self._vectors,
            filtered=bool(p.values) or not request.include_memories or request.include_events,
            exact=selective,
        )


async def _at_least(conn: asyncpg.Connection, where: str, params: list[object], rows: int) -> bool:
    """True when at least ``rows`` embedded documents pass ``where`` (counting stops there)."""
    if rows <= 0:
        return True
    found = await conn.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM search_docs"
        f" WHERE embedding IS NOT NULL AND {where} LIMIT {int(rows)}) AS matching",
        *params,
    )
    return int(found) >= rows
