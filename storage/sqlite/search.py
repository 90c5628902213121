"""Hybrid search over ``search_docs``: FTS5 BM25 and exact cosine candidates, fused by RRF.

Both candidate lists apply every filter and the scope in their own WHERE clause (``filters.docs_where``),
so nothing outside them is ever ranked or returned, and a top-k cut never loses an allowed item. Vector
search is exact: ``vec_distance_cosine`` (sqlite-vec) over every row passing the WHERE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from storage.indexing import names_sender, sender_label
from storage.models import Event, Memory, SearchHit, SearchRequest, utc_now
from storage.ranking import Candidate, fuse
from storage.scope import Scope
from storage.sqlite.filters import docs_where
from storage.sqlite.meta import check_embedding_size
from storage.sqlite.rows import event_from_row, fetch_all, from_ts, memory_from_row, pack_embedding
from storage.text import query_terms

__all__ = ["VECTOR_MODE", "candidate_pool", "fts_query", "search"]

VECTOR_MODE = "exact (sqlite-vec vec_distance_cosine)"


def candidate_pool(limit: int) -> int:
    """Candidates taken from each list: ``max(50, 4 * limit)``, deep enough for RRF to reorder."""
    return max(50, 4 * limit)


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression: the OR of the quoted terms of ``storage.text.query_terms``, or ``None``."""
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _candidates(rows: list[dict[str, Any]]) -> list[Candidate]:
    return [
        Candidate(
            key=(r["item_type"], r["item_id"]),
            at=from_ts(r["item_at"]),
            importance=r["importance"],
            namespace=r["namespace"],
        )
        for r in rows
    ]


def _sender_boosts(
    conn: apsw.Connection, request: SearchRequest, candidates: list[Candidate]
) -> dict[tuple[str, str], float]:
    """``1 + sender_boost`` for each candidate event whose sender the query names (``names_sender``)."""
    event_ids = sorted({c.key[1] for c in candidates if c.key[0] == "event"})
    if not request.sender_boost or not event_ids:
        return {}
    marks = ", ".join("?" * len(event_ids))
    rows = fetch_all(
        conn,
        "SELECT e.event_id, e.agent, i.display_name,"
        " (SELECT a.address FROM addresses AS a WHERE a.identity_id = e.sender_identity_id"
        " ORDER BY a.addr_seq LIMIT 1) AS address"
        f" FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
        f" WHERE e.event_id IN ({marks})",
        event_ids,
    )
    factor = 1.0 + request.sender_boost
    return {
        ("event", r["event_id"]): factor
        for r in rows
        if names_sender(request.query, sender_label(r["display_name"], r["address"], r["agent"]))
    }


def search(
    conn: apsw.Connection,
    request: SearchRequest,
    query_embedding: Sequence[float] | None,
    scope: Scope | None,
    configured_dimensions: int | None,
) -> list[SearchHit]:
    """Run a hybrid search (see ``MemoryStore.search``). Raises: InvalidInputError (embedding size)."""
    where = docs_where(
        request,
        scope,
        include_memories=request.include_memories,
        include_events=request.include_events,
    )
    pool = candidate_pool(request.limit)
    lexical: list[Candidate] = []
    match = fts_query(request.query)
    if match is not None:
        rows = fetch_all(
            conn,
            "SELECT d.item_type, d.item_id, d.item_at, d.importance, d.namespace FROM search_fts"
            " JOIN search_docs AS d ON d.doc_id = search_fts.rowid"
            f" WHERE search_fts MATCH ? AND {where.sql()}"
            " ORDER BY bm25(search_fts), d.item_type, d.item_id LIMIT ?",
            (match, *where.params, pool),
        )
        lexical = _candidates(rows)
    vector: list[Candidate] = []
    if query_embedding is not None:
        blob = pack_embedding(query_embedding)
        check_embedding_size(conn, len(blob) // 4, configured_dimensions, record=False)
        rows = fetch_all(
            conn,
            "SELECT d.item_type, d.item_id, d.item_at, d.importance, d.namespace,"
            " vec_distance_cosine(d.embedding, ?) AS distance FROM search_docs AS d"
            f" WHERE d.embedding IS NOT NULL AND {where.sql()}"
            " ORDER BY distance, d.item_type, d.item_id LIMIT ?",
            (blob, *where.params, pool),
        )
        vector = _candidates(rows)
    fused = fuse(
        lexical,
        vector,
        boosts=_sender_boosts(conn, request, [*lexical, *vector]),
        limit=request.limit,
        half_life_hours=request.half_life_hours,
        importance_weight=request.importance_weight,
        vector_weight=request.vector_weight,
        decay_rules=request.decay_rules,
        now=request.now or utc_now(),
    )
    memory_ids = [f.key[1] for f in fused if f.key[0] == "memory"]
    event_ids = [f.key[1] for f in fused if f.key[0] == "event"]
    memories: dict[str, Memory] = {}
    if memory_ids:
        marks = ", ".join("?" * len(memory_ids))
        for row in fetch_all(conn, f"SELECT * FROM memories WHERE memory_id IN ({marks})", memory_ids):
            memories[row["memory_id"]] = memory_from_row(row)
    events: dict[str, Event] = {}
    if event_ids:
        marks = ", ".join("?" * len(event_ids))
        for row in fetch_all(conn, f"SELECT * FROM events WHERE event_id IN ({marks})", event_ids):
            events[row["event_id"]] = event_from_row(row)
    hits: list[SearchHit] = []
    for f in fused:
        item_type, item_id = f.key
        memory = memories.get(item_id) if item_type == "memory" else None
        event = events.get(item_id) if item_type == "event" else None
        if memory is None and event is None:
            continue  # cannot happen inside one read transaction; kept for safety
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
