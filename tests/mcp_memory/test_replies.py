"""``fit_json`` against its promise: the compact JSON fits the budget whenever the top-level fields alone
fit, every top-level key is kept, and a value that fits is returned unchanged."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_memory.arguments import json_shape
from mcp_memory.replies import compact_json, fit_json

#: Text without control characters (each escapes to 6 characters of JSON; quotes and backslashes to 2).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=3_000)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda children: (
        st.lists(children, max_size=8) | st.dictionaries(st.text(max_size=8), children, max_size=8)
    ),
    max_leaves=60,
)


@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(st.text(max_size=10), JSON, max_size=6), budget=st.integers(1_000, 8_000))
def test_fitted_json_is_within_budget_and_keeps_top_level_keys(value: dict[str, Any], budget: int) -> None:
    fitted = fit_json(json.loads(json.dumps(value)), budget)
    assert set(fitted) == set(value)
    skeleton = dict.fromkeys(value)
    floor = sum(len(compact_json(v)) for v in value.values() if not isinstance(v, dict | list | str))
    # A string keeps at least MIN_KEPT_CHARS (200) characters plus its marker: 2 x 232 once escaped.
    if len(compact_json(skeleton)) + floor + 500 * len(value) <= budget:
        assert len(compact_json(fitted)) <= budget
    if len(compact_json(value)) <= budget:
        assert fitted == value


def test_the_longest_strings_are_cut_first_with_a_marker() -> None:
    value = {"content": "a" * 5_000, "title": "short", "notes": "b" * 1_500}
    fitted = fit_json(value, 3_000)
    assert fitted["title"] == "short"
    assert fitted["content"].endswith("more characters]")
    assert len(compact_json(fitted)) <= 3_000


def test_json_shape_counts_depth_and_keys_without_recursion() -> None:
    deep: Any = 1
    for _ in range(5_000):
        deep = [deep]
    assert json_shape(deep) == (5_000, 0)
    assert json_shape({"a": {"b": 1, "c": [{"d": 2}]}}) == (4, 4)
