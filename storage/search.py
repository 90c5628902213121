"""Hybrid search, the parts both backends share: pool size, candidates, sender boosts, fusion, hits.

A backend runs its own candidate SQL (SQLite: FTS5 BM25 and sqlite-vec exact cosine; PostgreSQL:
``ts_rank`` and pgvector/NumPy), both filtered by ``Params.search_conditions`` (``storage.filters``), and
everything around it comes from here, so both give the same hits for the same candidates:

1. ``candidate_pool(limit)`` candidates per list, each row read by ``candidate`` (``CANDIDATE_COLUMNS``);
2. ``sender_sql`` / ``sender_boosts``: events whose sender the query names score higher
   (``storage.indexing.names_sender``);
3. ``fuse_request``: ``storage.ranking.fuse`` with the request's knobs;
4. ``records_sql`` loads the fused items (``item_ids``) and ``hits`` maps them to ``SearchHit`` in fused order.

The SQL here reads columns both schemas name alike, so only its placeholders differ (``Params``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.filters import Params
from storage.indexing import names_sender, sender_label
from storage.models import Event, Memory, SearchHit, SearchRequest, utc_now
from storage.ranking import Candidate, FusedCandidate, fuse

__all__ = [
    "CANDIDATE_COLUMNS",
    "candidate",
    "candidate_pool",
    "fuse_request",
    "hits",
    "item_ids",
    "records_sql",
    "sender_boosts",
    "sender_sql",
]

#: The ``search_docs`` columns ``candidate`` reads; a candidate query selects them (with its alias).
CANDIDATE_COLUMNS = ("item_type", "item_id", "item_at", "importance", "namespace")

#: Fewest candidates taken from each list, so RRF can reorder even a small page.
MIN_CANDIDATES = 50


def candidate_pool(limit: int) -> int:
    """Candidates taken from each list before fusion: ``max(50, 5 * limit)`` (limit <= 100, so <= 500)."""
    return max(MIN_CANDIDATES, 5 * limit)


def candidate(row: Mapping[str, Any], load_time: Callable[[Any], datetime]) -> Candidate:
    """A candidate from a row holding ``CANDIDATE_COLUMNS`` (``load_time``: the dialect's time reader)."""
    return Candidate(
        key=(row["item_type"], row["item_id"]),
        at=load_time(row["item_at"]),
        importance=row["importance"],
        namespace=row["namespace"],
    )


def _event_ids(candidates: Sequence[Candidate]) -> list[str]:
    return sorted({c.key[1] for c in candidates if c.key[0] == "event"})


def sender_sql(p: Params, request: SearchRequest, candidates: Sequence[Candidate]) -> str | None:
    """SQL reading the sender of each candidate event (``event_id``, ``agent``, ``display_name``,
    ``address``: the identity's first address), or ``None`` when there is nothing to boost."""
    event_ids = _event_ids(candidates)
    if not request.sender_boost or not event_ids:
        return None
    return (
        "SELECT e.event_id, e.agent, i.display_name,"
        " (SELECT a.address FROM addresses AS a WHERE a.identity_id = e.sender_identity_id"
        " ORDER BY a.addr_seq LIMIT 1) AS address"
        " FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
        f" WHERE {p.equals_any('e.event_id', event_ids)}"
    )


def sender_boosts(request: SearchRequest, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], float]:
    """``1 + sender_boost`` for each event of ``rows`` (from ``sender_sql``) whose sender the query names."""
    factor = 1.0 + request.sender_boost
    return {
        ("event", r["event_id"]): factor
        for r in rows
        if names_sender(request.query, sender_label(r["display_name"], r["address"], r["agent"]))
    }


def fuse_request(
    request: SearchRequest,
    lexical: Sequence[Candidate],
    vector: Sequence[Candidate],
    boosts: Mapping[tuple[str, str], float],
) -> list[FusedCandidate]:
    """``storage.ranking.fuse`` of both lists with the request's limit, weights, decay and ``now``."""
    return fuse(
        lexical,
        vector,
        boosts=boosts,
        limit=request.limit,
        half_life_hours=request.half_life_hours,
        importance_weight=request.importance_weight,
        vector_weight=request.vector_weight,
        decay_rules=request.decay_rules,
        now=request.now or utc_now(),
    )


def records_sql(p: Params, item_type: str, item_ids: Sequence[str]) -> str | None:
    """SQL loading the memories or events (``item_type``) of ``item_ids``; ``None`` when there is none."""
    if not item_ids:
        return None
    table, key = ("memories", "memory_id") if item_type == "memory" else ("events", "event_id")
    return f"SELECT * FROM {table} WHERE {p.equals_any(key, list(item_ids))}"


def item_ids(fused: Sequence[FusedCandidate], item_type: str) -> list[str]:
    """The ids of the fused items of ``item_type`` (``memory`` or ``event``), in fused order."""
    return [f.key[1] for f in fused if f.key[0] == item_type]


def hits(
    fused: Sequence[FusedCandidate], memories: Mapping[str, Memory], events: Mapping[str, Event]
) -> list[SearchHit]:
    """The fused items as hits, in fused order; an item missing from both maps is skipped."""
    out: list[SearchHit] = []
    for f in fused:
        item_type, item_id = f.key
        memory = memories.get(item_id) if item_type == "memory" else None
        event = events.get(item_id) if item_type == "event" else None
        if memory is None and event is None:
            continue  # cannot happen inside one read transaction; kept for safety
        out.append(
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
    return out
