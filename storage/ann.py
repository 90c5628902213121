"""How a vector candidate list uses the in-process index without hiding or leaking anything (both backends).

The rule, written once (a backend runs the SQL; this module decides):

1. No ready index, or fewer than ``EXACT_BELOW_ROWS`` documents can pass the caller's namespaces (the
   scope's readable namespaces and the request's, counted per namespace by the keeper): rank the filtered
   rows exactly in SQL, as before.
2. Otherwise ask the index for ``fetch`` nearest keys (over-fetched by the inverse of that namespace
   fraction), add the keys the log shows changed since the index's position (``recent``: what the
   keeper has not applied yet, read in the search's own snapshot), and let the backend read back those
   keys **through the same WHERE** (every filter and the scope) with their vectors from that snapshot.
   Hidden or deleted documents drop out there, so nothing the caller may not see is ever ranked; the
   survivors are ranked by the exact cosine distance of the vector read back, so a stale vector in the
   index never ranks anything and a write not yet in the index is still found.
3. If fewer than ``pool`` survive and the index held more keys, fetch four times as many, up to
   ``MAX_FETCH``; past that, fall back to the exact SQL ranking. So a selective filter never shortens the
   list: either ``pool`` allowed documents are found near the query, or the exact path runs.

Sans-IO: ``AnnPlan.keys()`` says what to read, ``AnnPlan.feed()`` takes the rows, so the synchronous
SQLite and the asynchronous PostgreSQL backend drive the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from storage.models import SearchRequest
from storage.patterns import namespace_matches
from storage.scope import Scope
from storage.vector_index import SemanticVectorIndex

__all__ = [
    "EXACT_BELOW_ROWS",
    "LEXICAL_RANK_ROWS",
    "MAX_FETCH",
    "AnnPlan",
    "lexical_fetches",
    "namespace_fraction",
    "plan_search",
]

#: Below this many documents in the caller's namespaces the exact SQL ranking is cheap (SQLite: about
#: 10 ms for 2,000 rows with sqlite-vec under load) and certain; above it the index is used.
EXACT_BELOW_ROWS = 2_000
#: Most keys asked of the index in one search (then the exact path runs): at 4,096 an HNSW search
#: and reading the keys back cost about as much as an exact scan of 20-40k rows.
MAX_FETCH = 4_096
#: PostgreSQL lexical list: ``ts_rank`` scores at most this many matching rows (the newest), so its cost
#: is bounded (``ts_rank`` over every match grew 110 -> 428 ms from 10k to 100k memories, issue 15).
LEXICAL_RANK_ROWS = 2_000
#: Over-fetch margin on top of the namespace fraction (other filters: kinds, tags, time, sensitivity).
OVERFETCH = 2.0


def namespace_fraction(
    counts: Mapping[str | None, int], request: SearchRequest, scope: Scope | None
) -> tuple[int, float]:
    """Documents in the namespaces the request and the scope allow, and their share of all documents.

    ``counts``: embedded documents per namespace (events count under their room's namespace).
    """
    total = sum(counts.values())
    if total == 0:
        return 0, 0.0

    def allowed(namespace: str | None) -> bool:
        if namespace is None:
            return scope is None and not request.namespaces
        if request.namespaces and not any(namespace_matches(p, namespace) for p in request.namespaces):
            return False
        return scope is None or any(namespace_matches(p, namespace) for p in scope.read_namespaces)

    passing = sum(n for ns, n in counts.items() if allowed(ns))
    return passing, passing / total


@dataclass
class _Row:
    row: Any
    distance: float
    order: tuple[str, str]


class AnnPlan:
    """One vector candidate list through the index (see the module doc).

    Args:
        index: the ready index, or ``None`` (then ``exact`` is True at once).
        query: float32[dimensions] query vector.
        pool: candidates wanted.
        passing: documents in the allowed namespaces (``namespace_fraction``), fraction: their share.
        order_key: ``row -> (item_type, item_id)``, the tie-break of equal distances.
        recent: keys changed after the index's position (see the module doc).
        exact_below: ``EXACT_BELOW_ROWS`` unless a test forces the index path.
    """

    def __init__(
        self,
        index: SemanticVectorIndex | None,
        query: npt.NDArray[np.float32],
        pool: int,
        passing: int,
        fraction: float,
        order_key: Callable[[Any], tuple[str, str]],
        recent: Sequence[int] = (),
        exact_below: int = EXACT_BELOW_ROWS,
    ) -> None:
        self._index = index
        self._query = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(self._query))
        self._unit = self._query / norm if norm > 0 else self._query
        self._pool = pool
        self._order_key = order_key
        self.exact = (
            index is None
            or index.dimensions != self._query.shape[0]  # a reindex changed the size; the keeper rebuilds
            or passing < exact_below
            or fraction <= 0
        )
        self._fetch = 0 if self.exact else min(MAX_FETCH, math.ceil(pool * OVERFETCH / fraction) + 16)
        self._recent = list(recent)
        self._asked: list[int] = []
        self._result: list[Any] | None = None
        self.rounds = 0

    def keys(self) -> list[int] | None:
        """The keys to read back through the WHERE now, or ``None`` when done (see ``exact``/``result``)."""
        if self.exact or self._result is not None or self._index is None:
            return None
        self.rounds += 1
        self._asked = [h.key for h in self._index.search(self._query, self._fetch)]
        return [*self._asked, *self._recent]

    def feed(self, rows: Sequence[tuple[Any, bytes]]) -> None:
        """The ``(row, vector bytes)`` of the asked keys that pass the WHERE, in any order."""
        ranked: list[_Row] = []
        if rows:
            matrix = np.frombuffer(b"".join(v for _, v in rows), dtype="<f4").reshape(len(rows), -1)
            norms = np.linalg.norm(matrix, axis=1)
            sims = (matrix @ self._unit) / np.where(norms == 0, 1.0, norms)
            ranked = [
                _Row(r, 1.0 - float(s), self._order_key(r)) for (r, _), s in zip(rows, sims, strict=True)
            ]
        index_size = len(self._index) if self._index is not None else 0
        if len(ranked) >= self._pool or len(self._asked) >= index_size:
            ranked.sort(key=lambda x: (x.distance, x.order))
            self._result = [x.row for x in ranked[: self._pool]]
        elif self._fetch >= MAX_FETCH:
            self.exact = True
        else:
            self._fetch = min(MAX_FETCH, self._fetch * 4)

    @property
    def result(self) -> list[Any] | None:
        """The candidates, nearest first, once ``keys()`` returned ``None`` and ``exact`` is False."""
        return self._result


def plan_search(
    index: SemanticVectorIndex,
    counts: Mapping[str | None, int],
    request: SearchRequest,
    scope: Scope | None,
    query: bytes,
    pool: int,
    recent: Sequence[int],
    exact_below: int,
) -> AnnPlan:
    """The ``AnnPlan`` of one search over ``search_docs`` rows (``item_type``/``item_id`` tie-break).

    ``counts``: the keeper's documents per namespace; ``query``: float32 LE bytes; ``recent``: keys
    changed after the index's position, read in the search's snapshot.
    """
    passing, fraction = namespace_fraction(counts, request, scope)
    return AnnPlan(
        index,
        np.frombuffer(query, dtype="<f4"),
        pool,
        passing,
        fraction,
        lambda r: (r["item_type"], r["item_id"]),
        recent=recent,
        exact_below=exact_below,
    )


def lexical_fetches(pool: int, fraction: float = 1.0) -> list[int | None]:
    """How many best-ranked full-text matches to filter, in turn, until ``pool`` pass (``None``: all).

    A ranker that orders matches itself (FTS5 ``ORDER BY rank LIMIT n``) hands over its best ``n``; the
    caller filters them and stops once ``pool`` pass. The result is the same top list as filtering every
    match first: a match outside the best ``n`` ranks below all of them. The first ``n`` is 8 x pool, or
    more when the allowed namespaces hold only ``fraction`` of the documents (``namespace_fraction``);
    only when fewer pass is 8 times as many tried, then every match.
    """
    first = max(pool * 8, math.ceil(pool * OVERFETCH / fraction)) if fraction > 0 else pool * 8
    return [first, first * 8, None]
