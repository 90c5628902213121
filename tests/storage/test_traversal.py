"""The graph rules both backends share (``storage.traversal``), against small oracles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storage.traversal import merge_properties, new_properties, shape_walk

_rows = st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 4)), max_size=40)


@given(rows=_rows, cap=st.integers(1, 30), max_nodes=st.integers(1, 8))
def test_a_walk_keeps_each_node_at_its_shallowest_depth_in_order(
    rows: list[tuple[str, int]], cap: int, max_nodes: int
) -> None:
    ordered, truncated = shape_walk(rows, cap, max_nodes)
    shallowest: dict[str, int] = {}
    for entity_id, depth in rows[:cap]:
        shallowest[entity_id] = min(depth, shallowest.get(entity_id, depth))
    expected = sorted(shallowest.items(), key=lambda kv: (kv[1], kv[0]))
    assert ordered == expected[:max_nodes]
    assert truncated == (len(rows) > cap or len(expected) > max_nodes)


def test_properties_merge_with_none_removing_a_key() -> None:
    merged = merge_properties({"tier": "gold", "city": "Oslo"}, {"tier": "platinum", "city": None, "x": 1})
    assert merged == {"tier": "platinum", "x": 1}
    assert new_properties({"tier": "gold", "city": None}) == {"tier": "gold"}
