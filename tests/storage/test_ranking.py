"""storage.ranking.fuse: reciprocal rank fusion (k = 60), tie-break, recency decay and importance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.models import DecayRule, DecayStrategy
from storage.ranking import RRF_K, Candidate, decay_factor, fuse

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def cand(
    item_id: str, *, hours_ago: float = 0.0, importance: float = 0.5, item_type: str = "memory"
) -> Candidate:
    return Candidate((item_type, item_id), NOW - timedelta(hours=hours_ago), importance)


def test_rrf_constant_is_sixty() -> None:
    assert RRF_K == 60


def test_single_list_scores_are_one_over_sixty_plus_rank() -> None:
    fused = fuse([cand("a"), cand("b"), cand("c")], [], limit=10)

    assert [f.key[1] for f in fused] == ["a", "b", "c"]
    assert [f.score for f in fused] == pytest.approx([1 / 61, 1 / 62, 1 / 63])
    assert [f.lexical_rank for f in fused] == [1, 2, 3]
    assert all(f.vector_rank is None for f in fused)


def test_an_item_in_both_lists_sums_its_reciprocal_ranks() -> None:
    fused = fuse([cand("a"), cand("b")], [cand("c"), cand("b")], limit=10)
    by_id = {f.key[1]: f for f in fused}

    assert by_id["b"].score == pytest.approx(1 / 62 + 1 / 62)
    assert (by_id["b"].lexical_rank, by_id["b"].vector_rank) == (2, 2)
    assert by_id["a"].score == pytest.approx(1 / 61)
    assert (by_id["c"].lexical_rank, by_id["c"].vector_rank) == (None, 1)
    assert [f.key[1] for f in fused] == ["b", "a", "c"]


def test_equal_scores_break_ties_by_key_ascending() -> None:
    fused = fuse([cand("b")], [cand("a")], limit=10)

    assert [f.key for f in fused] == [("memory", "a"), ("memory", "b")]
    assert fused[0].score == fused[1].score


def test_tie_break_orders_item_type_before_id() -> None:
    fused = fuse([cand("a", item_type="memory")], [cand("z", item_type="event")], limit=10)

    assert [f.key for f in fused] == [("event", "z"), ("memory", "a")]


def test_limit_cuts_after_fusion() -> None:
    fused = fuse([cand(f"m{i}") for i in range(5)], [cand("m4")], limit=2)

    assert [f.key[1] for f in fused] == ["m4", "m0"]


def test_a_repeated_item_counts_once_at_its_best_rank() -> None:
    fused = fuse([cand("a"), cand("b"), cand("a")], [], limit=10)

    assert [(f.key[1], f.lexical_rank) for f in fused] == [("a", 1), ("b", 2)]
    assert fused[0].score == pytest.approx(1 / 61)


def test_list_weights_scale_each_contribution() -> None:
    fused = fuse([cand("a")], [cand("b")], limit=10, lexical_weight=0.5, vector_weight=2.0)
    by_id = {f.key[1]: f.score for f in fused}

    assert by_id == pytest.approx({"a": 0.5 / 61, "b": 2.0 / 61})


def test_k_changes_the_rank_constant() -> None:
    fused = fuse([cand("a"), cand("b")], [], limit=10, k=1)

    assert [f.score for f in fused] == pytest.approx([1 / 2, 1 / 3])


def test_recency_decay_halves_the_score_every_half_life() -> None:
    fused = fuse(
        [cand("fresh"), cand("day_old", hours_ago=24), cand("two_days", hours_ago=48)],
        [],
        limit=10,
        half_life_hours=24,
        now=NOW,
    )
    by_id = {f.key[1]: f.score for f in fused}

    assert by_id == pytest.approx({"fresh": 1 / 61, "day_old": 0.5 / 62, "two_days": 0.25 / 63})


def test_recency_decay_can_reorder_results() -> None:
    fused = fuse([cand("old", hours_ago=10), cand("new")], [], limit=10, half_life_hours=1, now=NOW)

    assert [f.key[1] for f in fused] == ["new", "old"]


def test_items_from_the_future_are_not_boosted() -> None:
    fused = fuse([cand("future", hours_ago=-5)], [], limit=10, half_life_hours=1, now=NOW)

    assert fused[0].score == pytest.approx(1 / 61)


def test_decay_needs_now() -> None:
    fused = fuse([cand("old", hours_ago=1000)], [], limit=10, half_life_hours=1, now=None)

    assert fused[0].score == pytest.approx(1 / 61)


def test_importance_weight_multiplies_by_one_plus_weight_times_importance() -> None:
    fused = fuse(
        [cand("minor", importance=0.0), cand("major", importance=1.0)], [], limit=10, importance_weight=2.0
    )
    by_id = {f.key[1]: f.score for f in fused}

    assert by_id == pytest.approx({"minor": 1 / 61, "major": 3 / 62})
    assert [f.key[1] for f in fused] == ["major", "minor"]


def test_decay_and_importance_combine() -> None:
    fused = fuse(
        [cand("a", hours_ago=2, importance=0.5)],
        [],
        limit=10,
        half_life_hours=2,
        importance_weight=1.0,
        now=NOW,
    )

    assert fused[0].score == pytest.approx(1 / 61 * 0.5 * 1.5)


def test_empty_lists_fuse_to_nothing() -> None:
    assert fuse([], [], limit=10) == []


def test_fusion_does_not_depend_on_which_list_an_equal_item_came_from() -> None:
    one = fuse([cand("a"), cand("b")], [cand("b"), cand("a")], limit=10)
    two = fuse([cand("b"), cand("a")], [cand("a"), cand("b")], limit=10)

    assert [(f.key, f.score) for f in one] == [(f.key, f.score) for f in two]
    assert [f.key[1] for f in one] == ["a", "b"]


# --- decay strategies (storage.ranking.decay_factor) ----------------------------------------------


@pytest.mark.parametrize("strategy", ["exponential", "logarithmic"])
def test_decay_is_one_when_new_and_one_half_after_one_half_life(strategy: DecayStrategy) -> None:
    assert decay_factor(strategy, 0.0, 10.0) == 1.0
    assert decay_factor(strategy, 10.0, 10.0) == pytest.approx(0.5)
    assert decay_factor(strategy, -5.0, 10.0) == 1.0  # clock skew: never above 1


def test_logarithmic_decay_has_a_longer_tail_than_exponential() -> None:
    assert decay_factor("logarithmic", 30.0, 10.0) == pytest.approx(1 / 3)
    assert decay_factor("logarithmic", 70.0, 10.0) == pytest.approx(1 / 4)
    assert decay_factor("exponential", 30.0, 10.0) == pytest.approx(1 / 8)


@given(
    strategy=st.sampled_from(["exponential", "logarithmic"]),
    a=st.floats(0, 1e6),
    b=st.floats(0, 1e6),
    half_life=st.floats(0.01, 1e4),
)
def test_decay_is_in_zero_one_and_never_grows_with_age(
    strategy: DecayStrategy, a: float, b: float, half_life: float
) -> None:
    younger, older = sorted([a, b])
    assert (
        0.0 <= decay_factor(strategy, older, half_life) <= decay_factor(strategy, younger, half_life) <= 1.0
    )


def test_namespace_decay_rules_apply_the_first_matching_rule_to_memories_only() -> None:
    rules = [
        DecayRule(namespace_pattern="shared-news", strategy="exponential", half_life_hours=1.0),
        DecayRule(namespace_pattern="shared-*", strategy="logarithmic", half_life_hours=1.0),
    ]
    old = NOW - timedelta(hours=3)
    lexical = [
        Candidate(("memory", "news"), old, 0.5, namespace="shared-news"),
        Candidate(("memory", "notes"), old, 0.5, namespace="shared-notes"),
        Candidate(("memory", "mine"), old, 0.5, namespace="agent-a"),
        Candidate(("event", "evt"), old, 0.5),
    ]
    fused = {f.key[1]: f.score for f in fuse(lexical, [], limit=10, now=NOW, decay_rules=rules)}
    assert fused["news"] == pytest.approx(1 / 61 * 0.5**3)
    assert fused["notes"] == pytest.approx(1 / 62 * (1 / 3))
    assert fused["mine"] == pytest.approx(1 / 63)
    assert fused["evt"] == pytest.approx(1 / 64)
