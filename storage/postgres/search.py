"""Hybrid search: lexical and vector candidates filtered in SQL, fused by RRF, records loaded.

Lexical: the query's terms (``storage.text.query_terms``) are OR-ed into one ``to_tsquery('english',
...)`` (each term quoted as a phrase), matched against ``search_docs.tsv`` through its GIN index and
ranked by ``ts_rank(tsv, q, 1)`` (term frequency, divided by 1 + log of the document length: the closest
built-in to the BM25 of FTS5), ties by ``(item_type, item_id)``. Measured on LoCoMo turns indexed with
their neighbours (``storage.indexing``), lexical recall@10: ``ts_rank`` 0.716 with this normalisation,
0.708 without; cover density ``ts_rank_cd`` 0.547 (it rewards documents holding many query terms close
together, which an OR of a question's words rarely has); FTS5 BM25 0.726.
Vector: see ``storage.postgres.vectors``; in ``pgvector-hnsw`` mode a filter that leaves fewer than
``EXACT_BELOW_ROWS`` documents is ranked exactly by pgvector in the server (no index scan). Both lists see the
same WHERE clause (every filter and the
scope, ``storage.postgres.filters``), take ``CANDIDATES_PER_LIST`` items, and meet in
``storage.ranking.fuse``. Everything is read in one REPEATABLE READ read-only transaction, so the records
returned are those that were ranked.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage.errors import InvalidInputError
from storage.indexing import names_sender, sender_label
from storage.models import SearchHit, SearchRequest, utc_now
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import event_from_row, memory_from_row
from storage.postgres.vectors import encode_embedding, exact_candidates, hnsw_candidates
from storage.ranking import Candidate, FusedCandidate, fuse
from storage.scope import Scope
from storage.text import query_terms

__all__ = ["CANDIDATES_PER_LIST", "EXACT_BELOW_ROWS", "SearchMixin", "tsquery_text"]

#: Candidates taken from each list before fusion: ``max(50, 5 * limit)`` (limit <= 100, so <= 500).
CANDIDATES_PER_LIST = 50

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


async def _sender_boosts(
    conn: asyncpg.Connection, request: SearchRequest, candidates: list[Candidate]
) -> dict[tuple[str, str], float]:
    """``1 + sender_boost`` for each candidate event whose sender the query names (``names_sender``)."""
    event_ids = sorted({c.key[1] for c in candidates if c.key[0] == "event"})
    if not request.sender_boost or not event_ids:
        return {}
    rows = await conn.fetch(
        "SELECT e.event_id, e.agent, i.display_name,"
        " (SELECT a.address FROM addresses AS a WHERE a.identity_id = e.sender_identity_id"
        " ORDER BY a.addr_seq LIMIT 1) AS address"
        " FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
        " WHERE e.event_id = ANY($1::text[])",
        event_ids,
    )
    factor = 1.0 + request.sender_boost
    return {
        ("event", r["event_id"]): factor
        for r in rows
        if names_sender(request.query, sender_label(r["display_name"], r["address"], r["agent"]))
    }


class SearchMixin(PostgresCore):
    """``search``: hybrid retrieval over memories and events."""

    #: See ``EXACT_BELOW_ROWS`` (an attribute so a test can force either vector path).
    exact_below_rows: int = EXACT_BELOW_ROWS

    async def search(
        self,
        request: SearchRequest,
        query_embedding: Sequence[float] | None = None,
        *,
        scope: Scope | None = None,
    ) -> list[SearchHit]:
        """Hybrid search (see ``MemoryStore.search``); at most ``request.limit`` hits, best first.

        Raises:
            InvalidInputError: the embedding's size differs from the store's.
        """
        scope = scope or Scope.unrestricted()
        k = max(CANDIDATES_PER_LIST, 5 * request.limit)
        query_blob: bytes | None = None
        if query_embedding is not None:
            async with self._connection() as conn:
                dims = await self._load_dimensions(conn)
                if dims is not None and dims != len(query_embedding):
                    self._dimensions = None  # re-read: a reindex in another process may have changed it
                    dims = await self._load_dimensions(conn)
            if dims is not None:
                query_blob = encode_embedding(query_embedding, dims)
            elif not query_embedding:
                raise InvalidInputError("the query embedding is empty")
        async with self._transaction("repeatable_read") as conn:
            lexical = await self._lexical(conn, request, scope, k)
            vector: list[Candidate] = []
            if query_blob is not None:
                p = PostgresParams()
                where = p.search_conditions(request, scope)
                if self._vectors.mode == "pgvector-hnsw":
                    assert self._dimensions is not None
                    selective = not await _at_least(conn, where, p.values, self.exact_below_rows)
                    vector = await hnsw_candidates(
                        conn,
                        where,
                        p.values,
                        query_blob,
                        k,
                        dimensions=self._dimensions,
                        support=self._vectors,
                        filtered=bool(p.values) or not request.include_memories or request.include_events,
                        exact=selective,
                    )
                else:
                    vector = await exact_candidates(conn, where, p.values, query_blob, k)
            fused = fuse(
                lexical,
                vector,
                boosts=await _sender_boosts(conn, request, [*lexical, *vector]),
                limit=request.limit,
                half_life_hours=request.half_life_hours,
                importance_weight=request.importance_weight,
                vector_weight=request.vector_weight,
                decay_rules=request.decay_rules,
                now=request.now or utc_now(),
            )
            return await self._load_hits(conn, fused)

    async def _lexical(
        self, conn: asyncpg.Connection, request: SearchRequest, scope: Scope, k: int
    ) -> list[Candidate]:
        text = tsquery_text(request.query)
        if text is None:
            return []
        p = PostgresParams(text)
        where = p.search_conditions(request, scope)
        rows = await conn.fetch(
            "SELECT item_type, item_id, item_at, importance, namespace, ts_rank(tsv, q, 1) AS rank"
            " FROM search_docs, to_tsquery('english', $1) AS q"
            f" WHERE tsv @@ q AND {where}"
            f" ORDER BY rank DESC, item_type, item_id LIMIT {int(k)}",
            *p.values,
        )
        return [
            Candidate(
                key=(r["item_type"], r["item_id"]),
                at=r["item_at"],
                importance=r["importance"],
                namespace=r["namespace"],
            )
            for r in rows
        ]

    async def _load_hits(self, conn: asyncpg.Connection, items: list[FusedCandidate]) -> list[SearchHit]:
        memory_ids = [f.key[1] for f in items if f.key[0] == "memory"]
        event_ids = [f.key[1] for f in items if f.key[0] == "event"]
        memories = {
            r["memory_id"]: memory_from_row(r)
            for r in await conn.fetch("SELECT * FROM memories WHERE memory_id = ANY($1::text[])", memory_ids)
        }
        events = {
            r["event_id"]: event_from_row(r)
            for r in await conn.fetch("SELECT * FROM events WHERE event_id = ANY($1::text[])", event_ids)
        }
        hits: list[SearchHit] = []
        for f in items:
            item_type, item_id = f.key
            memory = memories.get(item_id) if item_type == "memory" else None
            event = events.get(item_id) if item_type == "event" else None
            if memory is None and event is None:
                continue
            hits.append(
                SearchHit(
                    item_type="memory" if memory is not None else "event",
                    item_id=item_id,
                    score=f.score,
                    lexical_rank=f.lexical_rank,
                    vector_rank=f.vector_rank,
                    memory=memory,
                    event=event,
                )
            )
        return hits


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
