"""Knowledge graph: entities, typed relations, scope, and bounded, cycle-safe traversal in SQL."""

from __future__ import annotations

import itertools
from collections import deque

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import InvalidInputError, MemoryStore, NotFoundError, PermissionDeniedError, Scope
from storage.models import EntityRef, NewEntity, NewEscalation, NewRelation, NewRoom, Sensitivity

pytestmark = pytest.mark.anyio

NS = "shared-graph"


def ref(name: str, type: str = "thing") -> EntityRef:
    return EntityRef(type=type, name=name)


async def link(store: MemoryStore, a: str, rel: str, b: str, namespace: str = NS) -> None:
    await store.add_relation(NewRelation(namespace=namespace, source=ref(a), type=rel, target=ref(b)))


async def test_add_relation_creates_missing_entities_once_and_updates_metadata(store: MemoryStore) -> None:
    first = await store.add_relation(
        NewRelation(
            namespace=NS,
            source=EntityRef(type="person", name="Ana Silva"),
            type="works_at",
            target=EntityRef(type="company", name="Acme"),
            confidence=0.6,
            discovered_by="research",
        )
    )
    ana = await store.find_entity(NS, "Ana Silva", type="person")
    acme = await store.find_entity(NS, "Acme", type="company")
    assert sorted(first.created_entity_ids) == sorted([ana.entity_id, acme.entity_id])
    assert (first.relation.source_id, first.relation.target_id) == (ana.entity_id, acme.entity_id)
    assert (first.relation.type, first.relation.confidence, first.relation.discovered_by) == (
        "works_at",
        0.6,
        "research",
    )
    again = await store.add_relation(
        NewRelation(
            namespace=NS,
            source=EntityRef(type="person", name="Ana Silva"),
            type="works_at",
            target=EntityRef(type="company", name="Acme"),
            confidence=0.9,
            discovered_by="billing",
        )
    )
    assert again.created_entity_ids == []
    assert again.relation.relation_id == first.relation.relation_id
    assert (again.relation.confidence, again.relation.discovered_by) == (0.9, "billing")
    assert [r.relation_id for r in await store.list_relations(acme.entity_id)] == [first.relation.relation_id]


async def test_upsert_entity_merges_properties_and_find_entity_by_name(store: MemoryStore) -> None:
    made = await store.upsert_entity(
        NewEntity(namespace=NS, type="company", name="Acme", properties={"tier": "gold", "seats": 40})
    )
    assert made.sensitivity is Sensitivity.INTERNAL
    updated = await store.upsert_entity(
        NewEntity(namespace=NS, type="company", name="Acme", properties={"seats": None, "region": "eu"})
    )
    assert updated.entity_id == made.entity_id
    assert updated.properties == {"tier": "gold", "region": "eu"}
    assert (await store.find_entity(NS, "Acme")).entity_id == made.entity_id
    assert (await store.get_entity(made.entity_id)).properties == updated.properties
    with pytest.raises(NotFoundError):
        await store.find_entity(NS, "Acme", type="person")


async def test_traversal_respects_depth_direction_and_relation_types(store: MemoryStore) -> None:
    await link(store, "a", "depends_on", "b")
    await link(store, "b", "depends_on", "c")
    await link(store, "c", "part_of", "d")
    await link(store, "e", "relates_to", "a")
    start = await store.find_entity(NS, "a")
    names = {}
    for depth, direction, types in [
        (1, "out", ()),
        (3, "out", ()),
        (3, "out", ("depends_on",)),
        (2, "in", ()),
        (6, "both", ()),
    ]:
        walk = await store.traverse_graph(
            start.entity_id, max_depth=depth, direction=direction, relation_types=types
        )
        names[(depth, direction, types)] = {(n.entity.name, n.depth) for n in walk.nodes}
        assert walk.nodes[0].entity.entity_id == start.entity_id
        node_ids = {n.entity.entity_id for n in walk.nodes}
        assert all(e.source_id in node_ids and e.target_id in node_ids for e in walk.edges)
        assert not walk.truncated
    assert names[(1, "out", ())] == {("a", 0), ("b", 1)}
    assert names[(3, "out", ())] == {("a", 0), ("b", 1), ("c", 2), ("d", 3)}
    assert names[(3, "out", ("depends_on",))] == {("a", 0), ("b", 1), ("c", 2)}
    assert names[(2, "in", ())] == {("a", 0), ("e", 1)}
    assert names[(6, "both", ())] == {("a", 0), ("b", 1), ("e", 1), ("c", 2), ("d", 3)}


async def test_traversal_terminates_on_cycles_and_reports_shortest_depth(store: MemoryStore) -> None:
    for a, b in [("a", "b"), ("b", "c"), ("c", "a"), ("a", "a")]:
        await link(store, a, "relates_to", b)
    start = await store.find_entity(NS, "a")
    walk = await store.traverse_graph(start.entity_id, max_depth=6, direction="both")
    assert sorted((n.entity.name, n.depth) for n in walk.nodes) == [("a", 0), ("b", 1), ("c", 1)]
    assert len(walk.edges) == 4


async def test_traversal_is_capped_by_max_nodes(store: MemoryStore) -> None:
    for n in range(12):
        await link(store, "hub", "relates_to", f"spoke-{n:02d}")
    start = await store.find_entity(NS, "hub")
    walk = await store.traverse_graph(start.entity_id, max_depth=1, max_nodes=5)
    assert len(walk.nodes) == 5
    assert walk.truncated
    with pytest.raises(InvalidInputError):
        await store.traverse_graph(start.entity_id, max_depth=7)
    with pytest.raises(InvalidInputError):
        await store.traverse_graph(start.entity_id, max_nodes=0)


async def test_graph_obeys_namespaces_and_clearance(store: MemoryStore) -> None:
    await link(store, "a", "relates_to", "b", namespace="agent-billing")
    secret = await store.upsert_entity(
        NewEntity(namespace=NS, type="thing", name="vault", sensitivity=Sensitivity.CONFIDENTIAL)
    )
    await link(store, "a", "relates_to", "vault")
    await link(store, "vault", "relates_to", "behind")
    triage = Scope(
        agent="triage",
        read_namespaces=("agent-triage", "shared-*"),
        write_namespaces=("agent-triage", "shared-*"),
        max_sensitivity=Sensitivity.INTERNAL,
    )
    billing_a = await store.find_entity("agent-billing", "a")
    with pytest.raises(NotFoundError):
        await store.get_entity(billing_a.entity_id, scope=triage)
    with pytest.raises(NotFoundError):
        await store.get_entity(secret.entity_id, scope=triage)
    with pytest.raises(PermissionDeniedError):
        await link_scoped(store, triage, "agent-billing")
    with pytest.raises(PermissionDeniedError):
        await store.add_relation(
            NewRelation(namespace=NS, source=ref("x"), type="relates_to", target=ref("vault")), scope=triage
        )
    shared_a = await store.find_entity(NS, "a", scope=triage)
    walk = await store.traverse_graph(shared_a.entity_id, max_depth=3, scope=triage)
    assert [n.entity.name for n in walk.nodes] == ["a"]  # the vault is not entered, "behind" not reached
    assert await store.list_relations(shared_a.entity_id, scope=triage) == []
    with pytest.raises(NotFoundError):
        await store.find_entity(NS, "x")  # the refused write created nothing


async def link_scoped(store: MemoryStore, scope: Scope, namespace: str) -> None:
    await store.add_relation(
        NewRelation(namespace=namespace, source=ref("p"), type="relates_to", target=ref("q")), scope=scope
    )


# --- traversal against a breadth-first oracle -------------------------------------------------------

GRAPH_PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_namespaces = (f"shared-g{n}" for n in itertools.count())

edges_strategy = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(["relates_to", "depends_on"]), st.integers(0, 7)),
    max_size=20,
)


@GRAPH_PROPERTY
@given(
    edges=edges_strategy,
    depth=st.integers(1, 4),
    direction=st.sampled_from(["out", "in", "both"]),
    only=st.sampled_from([(), ("depends_on",)]),
)
async def test_traversal_matches_a_breadth_first_oracle(
    store: MemoryStore, edges: list[tuple[int, str, int]], depth: int, direction: str, only: tuple[str, ...]
) -> None:
    namespace = next(_namespaces)
    await store.upsert_entity(NewEntity(namespace=namespace, type="thing", name="n0"))
    for a, rel, b in edges:
        await link(store, f"n{a}", rel, f"n{b}", namespace=namespace)
    start = await store.find_entity(namespace, "n0")
    walk = await store.traverse_graph(
        start.entity_id, max_depth=depth, direction=direction, relation_types=only
    )
    adjacency: dict[str, set[str]] = {}
    for a, rel, b in set(edges):
        if only and rel not in only:
            continue
        if direction in ("out", "both"):
            adjacency.setdefault(f"n{a}", set()).add(f"n{b}")
        if direction in ("in", "both"):
            adjacency.setdefault(f"n{b}", set()).add(f"n{a}")
    expected = {"n0": 0}
    queue = deque(["n0"])
    while queue:
        node = queue.popleft()
        if expected[node] == depth:
            continue
        for nxt in adjacency.get(node, ()):
            if nxt not in expected:
                expected[nxt] = expected[node] + 1
                queue.append(nxt)
    assert {n.entity.name: n.depth for n in walk.nodes} == expected
    assert not walk.truncated
    kept = {(a, rel, b) for a, rel, b in set(edges) if not only or rel in only}
    expected_edges = {
        (f"n{a}", rel, f"n{b}") for a, rel, b in kept if f"n{a}" in expected and f"n{b}" in expected
    }
    names = {n.entity.entity_id: n.entity.name for n in walk.nodes}
    assert {(names[e.source_id], e.type, names[e.target_id]) for e in walk.edges} == expected_edges


# --- handoff packages -------------------------------------------------------------------------------


async def test_handoff_package_holds_the_customers_graph_neighbours(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    customer, _ = await store.resolve_identity("email", "ana@example.com")
    await store.add_participant(room.room_id, customer.identity_id, kind="identity", role="customer")
    bare = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="no graph yet"))
    assert bare.handoff.customer_graph is None

    ana = await store.upsert_entity(
        NewEntity(
            namespace=NS, type="person", name="Ana Silva", properties={"identity_id": customer.identity_id}
        )
    )
    await store.add_relation(
        NewRelation(
            namespace=NS, source=ana_ref(), type="works_at", target=EntityRef(type="company", name="Acme")
        )
    )
    await link(store, "Acme", "depends_on", "Payments API")  # two hops away: not in the package
    await store.add_relation(
        NewRelation(namespace=NS, source=ref("deal-7"), type="relates_to", target=ana_ref(), confidence=0.5)
    )
    escalation = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="wants a manager"))
    graph = escalation.handoff.customer_graph
    assert graph is not None
    assert graph.start_id == ana.entity_id
    assert sorted((n.entity.name, n.depth) for n in graph.nodes) == [
        ("Acme", 1),
        ("Ana Silva", 0),
        ("deal-7", 1),
    ]
    assert {e.type for e in graph.edges} == {"works_at", "relates_to"}
    assert (await store.get_escalation(escalation.escalation_id)).handoff == escalation.handoff


def ana_ref() -> EntityRef:
    return EntityRef(type="person", name="Ana Silva")
