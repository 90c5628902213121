"""``SearchQueries``: the hybrid search pipeline both backends share, around their own candidate SQL.

A backend's ``_search`` takes, in one read snapshot, up to ``pool`` lexical candidates (its full-text
index: FTS5 BM25 / ``tsvector``) and up to ``pool`` vector candidates (sqlite-vec / pgvector), each list
under every filter and the scope (``Params.search_conditions``), then runs ``rank_plan`` in the same
snapshot: sender boosts, reciprocal rank fusion, the records of the fused items, the hits
(``storage.search``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from storage import search as hybrid
from storage.contracts.memories import MemoryRecordStore
from storage.models import SearchHit, SearchRequest
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect, Reader
from storage.ranking import Candidate, FusedCandidate
from storage.rows import Row
from storage.scope import Scope

__all__ = ["SearchQueries", "rank_plan"]


def rank_plan(
    d: Dialect, request: SearchRequest, lexical: list[Candidate], vector: list[Candidate]
) -> Plan[list[SearchHit]]:
    """The hits of ``request`` from its two candidate lists: boosts, fusion, records (at most ``request.limit``)."""
    p = d.params()
    senders = hybrid.sender_sql(p, request, [*lexical, *vector])
    boosts = hybrid.sender_boosts(request, (yield Query(senders, p.values))) if senders else {}
    fused = hybrid.fuse_request(request, lexical, vector, boosts)
    memories = {r["memory_id"]: d.rows.memory(r) for r in (yield from _records(d, "memory", fused))}
    events = {r["event_id"]: d.rows.event(r) for r in (yield from _records(d, "event", fused))}
    return hybrid.hits(fused, memories, events)


def _records(d: Dialect, item_type: str, fused: Sequence[FusedCandidate]) -> Plan[Sequence[Row]]:
    p = d.params()
    sql = hybrid.records_sql(p, item_type, hybrid.item_ids(fused, item_type))
    if sql is None:
        return []
    return (yield Query(sql, p.values))


class SearchQueries(Reader, MemoryRecordStore):
    """``MemoryRecordStore.search``: the candidate pool size here, the candidates in ``_search``."""

    async def search(
        self,
        request: SearchRequest,
        query_embedding: Sequence[float] | None = None,
        *,
        scope: Scope | None = None,
    ) -> list[SearchHit]:
        return await self._search(request, query_embedding, scope, hybrid.candidate_pool(request.limit))

    @abstractmethod
    async def _search(
        self, request: SearchRequest, query_embedding: Sequence[float] | None, scope: Scope | None, pool: int
    ) -> list[SearchHit]:
        """In one read snapshot: up to ``pool`` lexical and (with ``query_embedding``) vector candidates
        under ``Params.search_conditions(request, scope)``, then ``rank_plan``.

        Raises:
            InvalidInputError: the query embedding's size differs from the store's.
        """
