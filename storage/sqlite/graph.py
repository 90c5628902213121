"""The knowledge graph on SQLite: ``SQLiteGraph`` (entities, relations, traversal by a recursive CTE).

Visibility follows ``storage.contracts.graph``: an entity is visible when its namespace is readable in the
scope and its sensitivity level is within the clearance. The rules shared with PostgreSQL (access checks,
property merges, shaping a walk) are in ``storage.traversal``; this module holds the SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

from storage import traversal
from storage.contracts.graph import MAX_EDGES, check_traversal, walk_row_cap
from storage.errors import NotFoundError
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
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, to_json, ts

__all__ = ["SQLiteGraph", "traverse_graph"]


def _visible(scope: Scope | None, alias: str = "e") -> SQLiteParams:
    where = SQLiteParams()
    where.require(*where.visible(f"{alias}.namespace", f"{alias}.sensitivity", scope))
    return where


def _get_entity(conn: apsw.Connection, entity_id: str, scope: Scope | None) -> Entity:
    """Return a visible entity. Raises: NotFoundError."""
    where = _visible(scope)
    row = fetch_one(
        conn,
        f"SELECT * FROM entities AS e WHERE e.entity_id = ? AND {where.sql()}",
        (entity_id, *where.values),
    )
    if row is None:
        raise NotFoundError("entity", entity_id)
    return ROWS.entity(row)


def _find_entity(
    conn: apsw.Connection, namespace: str, name: str, type_: str | None, scope: Scope | None
) -> Entity:
    where = _visible(scope)
    where.require(f"e.namespace = {where.add(namespace)}", f"e.name = {where.add(name)}")
    if type_ is not None:
        where.require(f"e.type = {where.add(type_)}")
    row = fetch_one(
        conn,
        f"SELECT * FROM entities AS e WHERE {where.sql()} ORDER BY e.created_at, e.entity_id LIMIT 1",
        where.values,
    )
    if row is None:
        raise traversal.entity_not_found(namespace, name, type_)
    return ROWS.entity(row)


def _upsert(
    conn: apsw.Connection,
    namespace: str,
    ref: EntityRef,
    properties: dict[str, Any],
    sensitivity: Sensitivity | None,
    created_by: str | None,
    scope: Scope | None,
) -> tuple[Entity, bool]:
    """Create or merge an entity; returns ``(entity, created)``."""
    if sensitivity is not None:
        traversal.check_clearance(scope, sensitivity.level, f"sensitivity {sensitivity.value!r}")
    now = ts(utc_now())
    row = fetch_one(
        conn,
        "SELECT * FROM entities WHERE namespace = ? AND type = ? AND name = ?",
        (namespace, ref.type, ref.name),
    )
    if row is None:
        entity_id = new_id("ent")
        conn.execute(
            "INSERT INTO entities (entity_id, namespace, type, name, properties, sensitivity, created_by,"
            " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            (
                entity_id,
                namespace,
                ref.type,
                ref.name,
                to_json(traversal.new_properties(properties), "properties"),
                (sensitivity or Sensitivity.INTERNAL).level,
                created_by,
                now,
            ),
        )
        return _get_entity(conn, entity_id, None), True
    traversal.check_clearance(scope, row["sensitivity"], f"entity {ref.type}/{ref.name}")
    if properties or sensitivity is not None:
        merged = traversal.merge_properties(json.loads(row["properties"]), properties)
        level = row["sensitivity"] if sensitivity is None else sensitivity.level
        conn.execute(
            "UPDATE entities SET properties = ?, sensitivity = ?, updated_at = ? WHERE entity_id = ?",
            (to_json(merged, "properties"), level, now, row["entity_id"]),
        )
    return _get_entity(conn, row["entity_id"], None), False


def _upsert_entity(conn: apsw.Connection, entity: NewEntity, scope: Scope | None) -> Entity:
    created, _ = _upsert(
        conn, entity.namespace, entity, entity.properties, entity.sensitivity, entity.created_by, scope
    )
    return created


def _add_relation(conn: apsw.Connection, relation: NewRelation, scope: Scope | None) -> AddedRelation:
    ns = relation.namespace
    source, source_new = _upsert(conn, ns, relation.source, {}, None, relation.discovered_by, scope)
    target, target_new = _upsert(conn, ns, relation.target, {}, None, relation.discovered_by, scope)
    row = fetch_one(
        conn,
        "INSERT INTO relations (relation_id, namespace, from_id, type, to_id, properties, confidence,"
        " discovered_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
        " ON CONFLICT (from_id, type, to_id) DO UPDATE SET properties = excluded.properties,"
        " confidence = excluded.confidence, discovered_by = excluded.discovered_by,"
        " updated_at = excluded.updated_at RETURNING *",
        (
            new_id("rel"),
            ns,
            source.entity_id,
            relation.type,
            target.entity_id,
            to_json(relation.properties, "properties"),
            relation.confidence,
            relation.discovered_by,
            ts(utc_now()),
        ),
    )
    assert row is not None  # RETURNING of the upsert above
    created = [e.entity_id for e, new in ((source, source_new), (target, target_new)) if new]
    return AddedRelation(relation=ROWS.relation(row), created_entity_ids=created)


def _list_relations(conn: apsw.Connection, entity_id: str, limit: int, scope: Scope | None) -> list[Relation]:
    _get_entity(conn, entity_id, scope)
    where = SQLiteParams()
    if scope is not None:
        level = scope.max_sensitivity.level
        where.require(where.readable("r.namespace", scope))
        where.require(where.at_most("s.sensitivity", level), where.at_most("t.sensitivity", level))
    where.require(f"(r.from_id = {where.add(entity_id)} OR r.to_id = {where.add(entity_id)})")
    rows = fetch_all(
        conn,
        "SELECT r.* FROM relations AS r JOIN entities AS s ON s.entity_id = r.from_id"
        f" JOIN entities AS t ON t.entity_id = r.to_id WHERE {where.sql()}"
        " ORDER BY r.created_at DESC, r.relation_id DESC LIMIT ?",
        (*where.values, traversal.edge_limit(limit)),
    )
    return [ROWS.relation(r) for r in rows]


def traverse_graph(
    conn: apsw.Connection,
    start_id: str,
    max_depth: int,
    relation_types: Sequence[str],
    direction: str,
    max_nodes: int,
    scope: Scope | None,
) -> GraphTraversal:
    start = _get_entity(conn, start_id, scope)
    types = list(dict.fromkeys(relation_types))
    type_sql = f" AND type IN ({', '.join('?' * len(types))})" if types else ""
    legs: list[str] = []
    params: list[Any] = []
    if direction in ("out", "both"):
        legs.append(f"SELECT from_id AS a, to_id AS b FROM relations WHERE namespace = ?{type_sql}")
        params += [start.namespace, *types]
    if direction in ("in", "both"):
        legs.append(f"SELECT to_id AS a, from_id AS b FROM relations WHERE namespace = ?{type_sql}")
        params += [start.namespace, *types]
    cap = walk_row_cap(max_nodes)
    rows = fetch_all(
        conn,
        f"WITH RECURSIVE edges(a, b) AS ({' UNION ALL '.join(legs)}),"
        " walk(entity_id, depth) AS ("
        "  SELECT ?, 0"
        "  UNION"
        "  SELECT edges.b, walk.depth + 1 FROM walk JOIN edges ON edges.a = walk.entity_id"
        "  JOIN entities AS n ON n.entity_id = edges.b AND n.sensitivity <= ?"
        "  WHERE walk.depth < ?"
        "  LIMIT ?"
        ") SELECT entity_id, depth FROM walk",
        (*params, start.entity_id, traversal.clearance_level(scope), max_depth, cap + 1),
    )
    ordered, truncated = traversal.shape_walk(((r["entity_id"], r["depth"]) for r in rows), cap, max_nodes)
    node_ids = [entity_id for entity_id, _ in ordered]
    marks = ", ".join("?" * len(node_ids))
    entities = {
        r["entity_id"]: ROWS.entity(r)
        for r in fetch_all(conn, f"SELECT * FROM entities WHERE entity_id IN ({marks})", node_ids)
    }
    edge_rows = fetch_all(
        conn,
        f"SELECT * FROM relations WHERE namespace = ? AND from_id IN ({marks}) AND to_id IN ({marks})"
        f"{type_sql} ORDER BY created_at, relation_id LIMIT ?",
        (start.namespace, *node_ids, *node_ids, *types, MAX_EDGES + 1),
    )
    return traversal.build_traversal(
        start, ordered, entities, [ROWS.relation(r) for r in edge_rows], truncated
    )


class SQLiteGraph(SQLiteCore):
    """``GraphStore`` on SQLite: one ``Database`` transaction per method."""

    async def upsert_entity(self, entity: NewEntity, *, scope: Scope | None = None) -> Entity:
        traversal.check_writable(scope, entity.namespace)
        return await self._db.write(_upsert_entity, entity, scope)

    async def get_entity(self, entity_id: str, *, scope: Scope | None = None) -> Entity:
        return await self._db.read(_get_entity, entity_id, scope)

    async def find_entity(
        self, namespace: str, name: str, *, type: str | None = None, scope: Scope | None = None
    ) -> Entity:
        return await self._db.read(_find_entity, namespace, name, type, scope)

    async def add_relation(self, relation: NewRelation, *, scope: Scope | None = None) -> AddedRelation:
        traversal.check_writable(scope, relation.namespace)
        return await self._db.write(_add_relation, relation, scope)

    async def list_relations(
        self, entity_id: str, *, limit: int = 50, scope: Scope | None = None
    ) -> list[Relation]:
        return await self._db.read(_list_relations, entity_id, limit, scope)

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
        return await self._db.read(
            traverse_graph, start_id, max_depth, relation_types, direction, max_nodes, scope
        )
