"""``GraphQueries``: reading and walking the knowledge graph, written once for both backends.

Visibility follows ``storage.contracts.graph``: an entity is visible when its namespace is readable in the
scope and its sensitivity level is within the clearance. The walk is a recursive CTE over ``relations``
(``walk_plan``), also run inside the write transaction that freezes a handoff package; the rules that
shape its rows into a ``GraphTraversal`` are ``storage.traversal``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage import traversal
from storage.contracts.graph import MAX_EDGES, GraphStore, check_traversal, walk_row_cap
from storage.errors import NotFoundError
from storage.models import Entity, GraphTraversal, Relation
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect, Reader
from storage.scope import Scope

__all__ = ["GraphQueries", "entity_plan", "walk_plan"]


def entity_plan(d: Dialect, entity_id: str, scope: Scope | None) -> Plan[Entity]:
    """The entity ``entity_id`` if visible in ``scope``. Raises: NotFoundError."""
    p = d.params()
    p.require(f"e.entity_id = {p.add(entity_id)}", *p.visible("e.namespace", "e.sensitivity", scope))
    rows = yield Query(f"SELECT * FROM entities AS e WHERE {p.sql()}", p.values)
    if not rows:
        raise NotFoundError("entity", entity_id)
    return d.rows.entity(rows[0])


def walk_plan(
    d: Dialect,
    start: Entity,
    *,
    max_depth: int,
    relation_types: Sequence[str],
    direction: str,
    max_nodes: int,
    ceiling: int,
) -> Plan[GraphTraversal]:
    """Walk from ``start`` breadth first within its namespace (semantics: ``GraphStore.traverse_graph``).

    Args:
        ceiling: the highest sensitivity level (0..2) the walk may step on.
    """
    types = list(dict.fromkeys(relation_types))
    p = d.params()
    legs: list[str] = []
    for a, b, way in (("from_id", "to_id", "out"), ("to_id", "from_id", "in")):
        if direction in (way, "both"):
            leg = f"SELECT {a} AS a, {b} AS b FROM relations WHERE namespace = {p.add(start.namespace)}"
            legs.append(leg + (f" AND {p.equals_any('type', types)}" if types else ""))
    cap = walk_row_cap(max_nodes)
    recursive = (
        f"WITH RECURSIVE edges(a, b) AS ({' UNION ALL '.join(legs)}),"
        " walk(entity_id, depth) AS ("
        f"  SELECT CAST({p.add(start.entity_id)} AS TEXT), 0"
        "  UNION"
        "  SELECT edges.b, walk.depth + 1 FROM walk JOIN edges ON edges.a = walk.entity_id"
        f"  JOIN entities AS n ON n.entity_id = edges.b AND n.sensitivity <= {p.add(ceiling)}"
        f"  WHERE walk.depth < {p.add(max_depth)}"
    )
    if p.LIMIT_IN_RECURSIVE:
        sql = f"{recursive} LIMIT {p.add(cap + 1)}) SELECT entity_id, depth FROM walk"
    else:
        sql = f"{recursive}) SELECT entity_id, depth FROM (SELECT * FROM walk LIMIT {p.add(cap + 1)}) AS w"
    rows = yield Query(sql, p.values)
    ordered, truncated = traversal.shape_walk(((r["entity_id"], r["depth"]) for r in rows), cap, max_nodes)
    node_ids = [entity_id for entity_id, _ in ordered]
    p = d.params()
    rows = yield Query(f"SELECT * FROM entities WHERE {p.equals_any('entity_id', node_ids)}", p.values)
    entities = {r["entity_id"]: d.rows.entity(r) for r in rows}
    p = d.params()
    p.require(
        f"namespace = {p.add(start.namespace)}",
        p.equals_any("from_id", node_ids),
        p.equals_any("to_id", node_ids),
    )
    if types:
        p.require(p.equals_any("type", types))
    edge_rows = yield Query(
        f"SELECT * FROM relations WHERE {p.sql()} ORDER BY created_at, relation_id LIMIT {p.add(MAX_EDGES + 1)}",
        p.values,
    )
    return traversal.build_traversal(
        start, ordered, entities, [d.rows.relation(r) for r in edge_rows], truncated
    )


def _traverse_plan(
    d: Dialect,
    start_id: str,
    max_depth: int,
    relation_types: Sequence[str],
    direction: str,
    max_nodes: int,
    scope: Scope | None,
) -> Plan[GraphTraversal]:
    start = yield from entity_plan(d, start_id, scope)
    return (
        yield from walk_plan(
            d,
            start,
            max_depth=max_depth,
            relation_types=relation_types,
            direction=direction,
            max_nodes=max_nodes,
            ceiling=traversal.clearance_level(scope),
        )
    )


def _relations_plan(d: Dialect, entity_id: str, limit: int, scope: Scope | None) -> Plan[list[Relation]]:
    yield from entity_plan(d, entity_id, scope)
    p = d.params()
    if scope is not None:
        level = scope.max_sensitivity.level
        p.require(
            p.readable("r.namespace", scope),
            p.at_most("s.sensitivity", level),
            p.at_most("t.sensitivity", level),
        )
    p.require(f"(r.from_id = {p.add(entity_id)} OR r.to_id = {p.add(entity_id)})")
    rows = yield Query(
        "SELECT r.* FROM relations AS r JOIN entities AS s ON s.entity_id = r.from_id"
        f" JOIN entities AS t ON t.entity_id = r.to_id WHERE {p.sql()}"
        f" ORDER BY r.created_at DESC, r.relation_id DESC LIMIT {p.add(traversal.edge_limit(limit))}",
        p.values,
    )
    return [d.rows.relation(r) for r in rows]


class GraphQueries(Reader, GraphStore):
    """``GraphStore``'s reads: entities, an entity's relations, the walk (writes stay in the backends)."""

    async def get_entity(self, entity_id: str, *, scope: Scope | None = None) -> Entity:
        return await self._read(entity_plan(self.dialect, entity_id, scope))

    async def find_entity(
        self, namespace: str, name: str, *, type: str | None = None, scope: Scope | None = None
    ) -> Entity:
        p = self.PARAMS()
        p.require(*p.visible("e.namespace", "e.sensitivity", scope))
        p.require(f"e.namespace = {p.add(namespace)}", f"e.name = {p.add(name)}")
        if type is not None:
            p.require(f"e.type = {p.add(type)}")
        row = await self._fetch_one(
            f"SELECT * FROM entities AS e WHERE {p.sql()} ORDER BY e.created_at, e.entity_id LIMIT 1",
            p.values,
        )
        if row is None:
            raise traversal.entity_not_found(namespace, name, type)
        return self.ROWS.entity(row)

    async def list_relations(
        self, entity_id: str, *, limit: int = 50, scope: Scope | None = None
    ) -> list[Relation]:
        return await self._read(_relations_plan(self.dialect, entity_id, limit, scope))

    async def traverse_graph(
        self,
        start_id: str,
        *,
        max_depth: int = 2,
        relation_types: Sequence[str] = (),
        direction: str = "both",
        max_nodes: int = 100,
        scope: Scope | None = None,
    ) -> GraphTraversal:
        check_traversal(max_depth, direction, max_nodes)
        plan = _traverse_plan(self.dialect, start_id, max_depth, relation_types, direction, max_nodes, scope)
        return await self._read(plan)
