"""The knowledge graph on PostgreSQL: ``PostgresGraph`` (entities, relations, traversal by a recursive CTE).

Visibility follows ``storage.contracts.graph``: an entity is visible when its namespace is readable in the
scope (``LIKE ANY`` of the scope's patterns) and its sensitivity level is within the clearance. The rules
shared with SQLite (access checks, property merges, shaping a walk) are in ``storage.traversal``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from storage import traversal
from storage.contracts.graph import MAX_EDGES, check_traversal, walk_row_cap
from storage.errors import NotFoundError
from storage.filters import all_of
from storage.models import (
    AddedRelation,
    Entity,
    EntityRef,
    GraphTraversal,
    NewEntity,
    NewRelation,
    Relation,
    Sensitivity,
    new_id,
    utc_now,
)
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.scope import Scope

__all__ = ["PostgresGraph", "traverse"]

Row = Mapping[str, Any]


def _visible(scope: Scope | None, p: PostgresParams, alias: str = "e") -> str:
    return all_of(p.visible(f"{alias}.namespace", f"{alias}.sensitivity", scope))


async def _fetch_entity(conn: asyncpg.Connection, entity_id: str, scope: Scope | None) -> Entity:
    """Return a visible entity. Raises: NotFoundError."""
    p = PostgresParams(entity_id)
    row = await conn.fetchrow(
        f"SELECT * FROM entities AS e WHERE e.entity_id = $1 AND {_visible(scope, p)}", *p.values
    )
    if row is None:
        raise NotFoundError("entity", entity_id)
    return ROWS.entity(row)


async def _upsert(
    conn: asyncpg.Connection,
    namespace: str,
    ref: EntityRef,
    properties: dict[str, Any],
    sensitivity: Sensitivity | None,
    created_by: str | None,
    scope: Scope | None,
) -> tuple[Entity, bool]:
    if sensitivity is not None:
        traversal.check_clearance(scope, sensitivity.level, f"sensitivity {sensitivity.value!r}")
    now = utc_now()
    inserted = await conn.fetchrow(
        "INSERT INTO entities (entity_id, namespace, type, name, properties, sensitivity, created_by,"
        " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
        " ON CONFLICT (namespace, type, name) DO NOTHING RETURNING *",
        new_id("ent"),
        namespace,
        ref.type,
        ref.name,
        traversal.new_properties(properties),
        (sensitivity or Sensitivity.INTERNAL).level,
        created_by,
        now,
    )
    if inserted is not None:
        return ROWS.entity(inserted), True
    row = await conn.fetchrow(
        "SELECT * FROM entities WHERE namespace = $1 AND type = $2 AND name = $3 FOR UPDATE",
        namespace,
        ref.type,
        ref.name,
    )
    assert row is not None  # the conflicting row exists and entities are never deleted
    traversal.check_clearance(scope, row["sensitivity"], f"entity {ref.type}/{ref.name}")
    if not properties and sensitivity is None:
        return ROWS.entity(row), False
    level = row["sensitivity"] if sensitivity is None else sensitivity.level
    updated = await conn.fetchrow(
        "UPDATE entities SET properties = $2, sensitivity = $3, updated_at = $4 WHERE entity_id = $1"
        " RETURNING *",
        row["entity_id"],
        traversal.merge_properties(row["properties"], properties),
        level,
        now,
    )
    return ROWS.entity(updated), False


async def traverse(
    conn: asyncpg.Connection,
    start: Entity,
    *,
    max_depth: int,
    relation_types: Sequence[str],
    direction: str,
    max_nodes: int,
    ceiling: int,
) -> GraphTraversal:
    types = list(dict.fromkeys(relation_types))
    p = PostgresParams(start.namespace)
    type_sql = f" AND type = ANY({p.add(types)}::text[])" if types else ""
    legs: list[str] = []
    if direction in ("out", "both"):
        legs.append(f"SELECT from_id AS a, to_id AS b FROM relations WHERE namespace = $1{type_sql}")
    if direction in ("in", "both"):
        legs.append(f"SELECT to_id AS a, from_id AS b FROM relations WHERE namespace = $1{type_sql}")
    cap = walk_row_cap(max_nodes)
    # The subquery's LIMIT stops the recursive evaluation once enough rows were produced (PostgreSQL
    # evaluates a WITH query only as far as its parent fetches, manual section 7.8.2).
    rows = await conn.fetch(
        f"WITH RECURSIVE edges(a, b) AS ({' UNION ALL '.join(legs)}),"
        " walk(entity_id, depth) AS ("
        f"  SELECT {p.add(start.entity_id)}::text, 0"
        "  UNION"
        "  SELECT edges.b, walk.depth + 1 FROM walk JOIN edges ON edges.a = walk.entity_id"
        f"  JOIN entities AS n ON n.entity_id = edges.b AND n.sensitivity <= {p.add(ceiling)}"
        f"  WHERE walk.depth < {p.add(max_depth)}"
        f") SELECT entity_id, depth FROM (SELECT * FROM walk LIMIT {p.add(cap + 1)}) AS w",
        *p.values,
    )
    ordered, truncated = traversal.shape_walk(((r["entity_id"], r["depth"]) for r in rows), cap, max_nodes)
    node_ids = [entity_id for entity_id, _ in ordered]
    entities = {
        r["entity_id"]: ROWS.entity(r)
        for r in await conn.fetch("SELECT * FROM entities WHERE entity_id = ANY($1::text[])", node_ids)
    }
    q = PostgresParams(start.namespace, node_ids)
    edge_type_sql = f" AND type = ANY({q.add(types)}::text[])" if types else ""
    edge_rows = await conn.fetch(
        "SELECT * FROM relations WHERE namespace = $1 AND from_id = ANY($2::text[])"
        f" AND to_id = ANY($2::text[]){edge_type_sql}"
        f" ORDER BY created_at, relation_id LIMIT {q.add(MAX_EDGES + 1)}",
        *q.values,
    )
    return traversal.build_traversal(
        start, ordered, entities, [ROWS.relation(r) for r in edge_rows], truncated
    )


class PostgresGraph(PostgresCore):
    """``GraphStore`` on PostgreSQL."""

    async def upsert_entity(self, entity: NewEntity, *, scope: Scope | None = None) -> Entity:
        traversal.check_writable(scope, entity.namespace)
        async with self._transaction() as conn:
            created, _ = await _upsert(
                conn,
                entity.namespace,
                entity,
                entity.properties,
                entity.sensitivity,
                entity.created_by,
                scope,
            )
        return created

    async def get_entity(self, entity_id: str, *, scope: Scope | None = None) -> Entity:
        async with self._connection() as conn:
            return await _fetch_entity(conn, entity_id, scope)

    async def find_entity(
        self, namespace: str, name: str, *, type: str | None = None, scope: Scope | None = None
    ) -> Entity:
        p = PostgresParams(namespace, name)
        conds = ["e.namespace = $1", "e.name = $2", _visible(scope, p)]
        if type is not None:
            conds.append(f"e.type = {p.add(type)}")
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT * FROM entities AS e WHERE {' AND '.join(conds)}"
                " ORDER BY e.created_at, e.entity_id LIMIT 1",
                *p.values,
            )
        if row is None:
            raise traversal.entity_not_found(namespace, name, type)
        return ROWS.entity(row)

    async def add_relation(self, relation: NewRelation, *, scope: Scope | None = None) -> AddedRelation:
        traversal.check_writable(scope, relation.namespace)
        ns = relation.namespace
        async with self._transaction() as conn:
            source, source_new = await _upsert(
                conn, ns, relation.source, {}, None, relation.discovered_by, scope
            )
            target, target_new = await _upsert(
                conn, ns, relation.target, {}, None, relation.discovered_by, scope
            )
            row = await conn.fetchrow(
                "INSERT INTO relations (relation_id, namespace, from_id, type, to_id, properties, confidence,"
                " discovered_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
                " ON CONFLICT (from_id, type, to_id) DO UPDATE SET properties = EXCLUDED.properties,"
                " confidence = EXCLUDED.confidence, discovered_by = EXCLUDED.discovered_by,"
                " updated_at = EXCLUDED.updated_at RETURNING *",
                new_id("rel"),
                ns,
                source.entity_id,
                relation.type,
                target.entity_id,
                relation.properties,
                relation.confidence,
                relation.discovered_by,
                utc_now(),
            )
        created = [e.entity_id for e, new in ((source, source_new), (target, target_new)) if new]
        return AddedRelation(relation=ROWS.relation(row), created_entity_ids=created)

    async def list_relations(
        self, entity_id: str, *, limit: int = 50, scope: Scope | None = None
    ) -> list[Relation]:
        async with self._connection() as conn:
            await _fetch_entity(conn, entity_id, scope)
            p = PostgresParams(entity_id)
            conds = ["(r.from_id = $1 OR r.to_id = $1)"]
            if scope is not None:
                conds.append(p.readable("r.namespace", scope))
                level = p.add(scope.max_sensitivity.level)
                conds += [f"s.sensitivity <= {level}", f"t.sensitivity <= {level}"]
            rows = await conn.fetch(
                "SELECT r.* FROM relations AS r JOIN entities AS s ON s.entity_id = r.from_id"
                " JOIN entities AS t ON t.entity_id = r.to_id"
                f" WHERE {all_of(conds)} ORDER BY r.created_at DESC, r.relation_id DESC"
                f" LIMIT {p.add(traversal.edge_limit(limit))}",
                *p.values,
            )
        return [ROWS.relation(r) for r in rows]

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
        async with self._transaction("repeatable_read") as conn:
            start = await _fetch_entity(conn, start_id, scope)
            return await traverse(
                conn,
                start,
                max_depth=max_depth,
                relation_types=relation_types,
                direction=direction,
                max_nodes=max_nodes,
                ceiling=traversal.clearance_level(scope),
            )
