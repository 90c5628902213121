"""Rank fusion shared by every backend, so the same candidates give the same order everywhere.

Reciprocal rank fusion: ``score(d) = sum over lists of 1 / (k + rank(d))`` with ``k = 60``
(Cormack, Clarke and Buettcher, "Reciprocal Rank Fusion outperforms Condorcet and individual Rank
Learning Methods", SIGIR 2009), each list's contribution multiplied by its weight. Search weighs the
lexical list 1.0 and the vector list ``VECTOR_WEIGHT`` = 0.2: tuned on two LoCoMo conversations (26, 30)
among 0.2-1.0, it gave recall@10 0.755 on the three held out (41-43) against 0.732 with equal weights
(``bench/locomo_retrieval.py``; BM25 over turns with their neighbours is the stronger list there, and
the vector list still decides among items the words do not separate).

Recency decay multiplies a score by ``decay_factor(strategy, age, half_life)``:

- ``exponential``: ``0.5 ** (age_hours / half_life_hours)`` (halves every half-life; the request's
  ``half_life_hours`` always uses it);
- ``logarithmic``: ``1 / (1 + log2(1 + age_hours / half_life_hours))``: also 1 when new and 0.5 after
  one half-life, then a long tail (1/3 after 3 half-lives, 1/4 after 7, where exponential gives 1/8
  and 1/128), for namespaces whose old knowledge should fade but stay findable.

Namespace decay rules (``DecayRule``, from the team's ``[retention."<pattern>"]`` config) apply to memories
of matching namespaces (the first matching rule); events carry no namespace and get none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from storage.patterns import namespace_matches

if TYPE_CHECKING:  # storage.models imports this module (its VECTOR_WEIGHT default)
    from storage.models.retention import DecayRule, DecayStrategy

__all__ = ["RRF_K", "VECTOR_WEIGHT", "Candidate", "FusedCandidate", "decay_factor", "fuse"]

RRF_K = 60

#: Default weight of the vector list against 1.0 for the lexical list (see the module docstring).
VECTOR_WEIGHT = 0.2


@dataclass(frozen=True)
class Candidate:
    """One item of a candidate list as a backend found it.

    Attributes:
        key: ``(item_type, item_id)``, e.g. ``("memory", "mem_…")``.
        at: the item's time (memory ``created_at``, event ``occurred_at``), tz-aware UTC.
        importance: in [0, 1] (events use 0.5).
        namespace: the memory's namespace (``None`` for events), for namespace decay rules.
    """

    key: tuple[str, str]
    at: datetime
    importance: float
    namespace: str | None = None


@dataclass(frozen=True)
class FusedCandidate:
    """A fused result: ``score`` higher is better; ranks are 1-based or ``None`` when absent."""

    key: tuple[str, str]
    score: float
    lexical_rank: int | None
    vector_rank: int | None


def decay_factor(strategy: DecayStrategy, age_hours: float, half_life_hours: float) -> float:
    """The multiplier in (0, 1] of a score ``age_hours`` old (see the module docstring for the formulas)."""
    ratio = max(0.0, age_hours) / half_life_hours
    if strategy == "logarithmic":
        return 1.0 / (1.0 + math.log2(1.0 + ratio))
    return float(0.5**ratio)


def _rule_for(rules: Sequence[DecayRule], namespace: str | None) -> DecayRule | None:
    if namespace is None:
        return None
    return next((r for r in rules if namespace_matches(r.namespace_pattern, namespace)), None)


def fuse(
    lexical: Sequence[Candidate],
    vector: Sequence[Candidate],
    *,
    limit: int,
    k: int = RRF_K,
    lexical_weight: float = 1.0,
    vector_weight: float = 1.0,
    half_life_hours: float | None = None,
    importance_weight: float = 0.0,
    boosts: Mapping[tuple[str, str], float] | None = None,
    now: datetime | None = None,
    decay_rules: Sequence[DecayRule] = (),
) -> list[FusedCandidate]:
    """Fuse two ranked candidate lists (best first) into at most ``limit`` results, best first.

    Args:
        lexical: BM25 candidates, best first.
        vector: nearest-neighbour candidates, best first.
        limit: how many results to keep.
        k: the RRF constant (60, Cormack et al. 2009).
        lexical_weight, vector_weight: multipliers of each list's reciprocal-rank contribution.
        half_life_hours: when set, multiply by ``0.5 ** (age_hours / half_life_hours)`` (requires ``now``).
        importance_weight: multiply by ``1 + importance_weight * importance``.
        boosts: further score factors by key (e.g. ``storage.indexing.names_sender``); default 1.
        now: reference time for decay.
        decay_rules: per-namespace decay of memories (first matching rule; requires ``now``), applied on
            top of ``half_life_hours``.

    Ties break by ``key`` ascending, so equal inputs give equal outputs on every backend.
    """
    scores: dict[tuple[str, str], float] = {}
    info: dict[tuple[str, str], Candidate] = {}
    lex_rank: dict[tuple[str, str], int] = {}
    vec_rank: dict[tuple[str, str], int] = {}
    for weight, ranks, candidates in (
        (lexical_weight, lex_rank, lexical),
        (vector_weight, vec_rank, vector),
    ):
        for rank, cand in enumerate(candidates, start=1):
            if cand.key in ranks:
                continue
            ranks[cand.key] = rank
            info[cand.key] = cand
            scores[cand.key] = scores.get(cand.key, 0.0) + weight / (k + rank)
    for key, cand in info.items():
        factor = 1.0
        age_hours = 0.0 if now is None else max(0.0, (now - cand.at).total_seconds() / 3600.0)
        if half_life_hours is not None and now is not None:
            factor *= decay_factor("exponential", age_hours, half_life_hours)
        rule = _rule_for(decay_rules, cand.namespace) if now is not None else None
        if rule is not None:
            factor *= decay_factor(rule.strategy, age_hours, rule.half_life_hours)
        if importance_weight:
            factor *= 1.0 + importance_weight * cand.importance
        if boosts:
            factor *= boosts.get(key, 1.0)
        scores[key] *= factor
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [FusedCandidate(key, score, lex_rank.get(key), vec_rank.get(key)) for key, score in ordered]
