"""The knowledge graph on SQLite: entities, relations, and traversal by a recursive CTE.

Visibility follows ``storage.contracts.graph``: an entity is visible when its namespace is readable in the
scope and its sensitivity level is within the clearance. Every function runs inside the transaction the
caller (``Database.read`` / ``Database.write``) opened.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

from storage.contracts.graph import MAX_EDGES, check_traversal, walk_row_cap
from storage.errors import NotFoundError, PermissionDeniedError
from storage.models import (
    AddedRelation,
    Entity,
    EntityRef,
    GraphNode,
    GraphTraversal,
    NewEntity,
    NewRelation,
    Relation,
    Sensitivity,
    new_id,
    utc_now,
)
from storage.scope import Scope
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.rows import fetch_all, fetch_one, from_ts, to_json, ts

__all__ = [
    "add_relation",
    "find_entity",
    "get_entity",
    "list_relations",
    "traverse_graph",
    "upsert_entity",
]

_LEVELS = {s.level: s for s in Sensitivity}


def entity_from_row(row: dict[str, Any]) -> Entity:
    """An ``entities`` row as an ``Entity``."""
    return Entity(
        entity_id=row["entity_id"],
        namespace=row["namespace"],
        type=row["type"],
        name=row["name"],
        properties=json.loads(row["properties"]),
        sensitivity=_LEVELS[row["sensitivity_level"]],
        created_by=row["created_by"],
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
    )


def relation_from_row(row: dict[str, Any]) -> Relation:
    """A ``relations`` row as a ``Relation``."""
    return Relation(
        relation_id=row["relation_id"],
        namespace=row["namespace"],
        source_id=row["from_id"],
        type=row["type"],
        target_id=row["to_id"],
        properties=json.loads(row["properties"]),
        confidence=row["confidence"],
        discovered_by=row["discovered_by"],
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
    )


def _visible(scope: Scope | None, alias: str = "e") -> SQLiteParams:
    where = SQLiteParams()
    where.require(*where.visible(f"{alias}.namespace", f"{alias}.sensitivity_level", scope))
    return where


def _check_writable(scope: Scope | None, namespace: str) -> None:
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"namespace {namespace!r} is not writable by {scope.agent!r}: write to one of "
            f"{', '.join(scope.write_namespaces) or 'no namespace'}"
        )


def _check_clearance(scope: Scope | None, level: int, what: str) -> None:
    if scope is not None and level > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"{what} is above the clearance of {scope.agent!r} ({scope.max_sensitivity.value})"
        )


def get_entity(conn: apsw.Connection, entity_id: str, scope: Scope | None) -> Entity:
    """Return a visible entity. Raises: NotFoundError."""
    where = _visible(scope)
    row = fetch_one(
        conn,
        f"SELECT * FROM entities AS e WHERE e.entity_id = ? AND {where.sql()}",
        (entity_id, *where.values),
    )
    if row is None:
        raise NotFoundError("entity", entity_id)
    return entity_from_row(row)


def find_entity(
    conn: apsw.Connection, namespace: str, name: str, type_: str | None, scope: Scope | None
) -> Entity:
    """Return the visible entity named ``name`` in ``namespace`` (oldest first). Raises: NotFoundError."""
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
        raise NotFoundError("entity", f"{namespace}/{type_ + '/' if type_ else ''}{name}")
    return entity_from_row(row)


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
    now = ts(utc_now())
    row = fetch_one(
        conn,
        "SELECT * FROM entities WHERE namespace = ? AND type = ? AND name = ?",
        (namespace, ref.type, ref.name),
    )
    if sensitivity is not None:
        _check_clearance(scope, sensitivity.level, f"sensitivity {sensitivity.value!r}")
    if row is None:
        entity_id = new_id("ent")
        level = (sensitivity or Sensitivity.INTERNAL).level
        clean = {k: v for k, v in properties.items() if v is not None}
        conn.execute(
            "INSERT INTO entities (entity_id, namespace, type, name, properties, sensitivity_level,"
            " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entity_id,
                namespace,
                ref.type,
                ref.name,
                to_json(clean, "properties"),
                level,
                created_by,
                now,
                now,
            ),
        )
        return get_entity(conn, entity_id, None), True
    _check_clearance(scope, row["sensitivity_level"], f"entity {ref.type}/{ref.name}")
    if properties or sensitivity is not None:
        merged = json.loads(row["properties"])
        for key, value in properties.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        level = row["sensitivity_level"] if sensitivity is None else sensitivity.level
        conn.execute(
            "UPDATE entities SET properties = ?, sensitivity_level = ?, updated_at = ? WHERE entity_id = ?",
            (to_json(merged, "properties"), level, now, row["entity_id"]),
        )
    return get_entity(conn, row["entity_id"], None), False


def upsert_entity(conn: apsw.Connection, entity: NewEntity, scope: Scope | None) -> Entity:
    """Create or update an entity. Raises: PermissionDeniedError."""
    _check_writable(scope, entity.namespace)
    created, _ = _upsert(
        conn, entity.namespace, entity, entity.properties, entity.sensitivity, entity.created_by, scope
    )
    return created


def add_relation(conn: apsw.Connection, relation: NewRelation, scope: Scope | None) -> AddedRelation:
    """Add or update a relation, creating missing entities. Raises: PermissionDeniedError."""
    _check_writable(scope, relation.namespace)
    ns = relation.namespace
    source, source_new = _upsert(conn, ns, relation.source, {}, None, relation.discovered_by, scope)
    target, target_new = _upsert(conn, ns, relation.target, {}, None, relation.discovered_by, scope)
    now = ts(utc_now())
    conn.execute(
        "INSERT INTO relations (relation_id, namespace, from_id, type, to_id, properties, confidence,"
        " discovered_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (from_id, type, to_id) DO UPDATE SET properties = excluded.properties,"
        " confidence = excluded.confidence, discovered_by = excluded.discovered_by,"
        " updated_at = excluded.updated_at",
        (
            new_id("rel"),
            ns,
            source.entity_id,
            relation.type,
            target.entity_id,
            to_json(relation.properties, "properties"),
            relation.confidence,
            relation.discovered_by,
            now,
            now,
        ),
    )
    row = fetch_one(
        conn,
        "SELECT * FROM relations WHERE from_id = ? AND type = ? AND to_id = ?",
        (source.entity_id, relation.type, target.entity_id),
    )
    assert row is not None
    created = [e.entity_id for e, new in ((source, source_new), (target, target_new)) if new]
    return AddedRelation(relation=relation_from_row(row), created_entity_ids=created)


def _visible_relations_sql(scope: Scope | None) -> SQLiteParams:
    """Conditions on ``relations AS r`` joined with ``entities AS s`` (source) and ``t`` (target)."""
    where = SQLiteParams()
    if scope is not None:
        where.require(where.readable("r.namespace", scope))
        where.require(f"s.sensitivity_level <= {where.add(scope.max_sensitivity.level)}")
        where.require(f"t.sensitivity_level <= {where.add(scope.max_sensitivity.level)}")
    return where


_RELATIONS_JOIN = (
    "SELECT r.* FROM relations AS r JOIN entities AS s ON s.entity_id = r.from_id"
    " JOIN entities AS t ON t.entity_id = r.to_id"
)


def list_relations(conn: apsw.Connection, entity_id: str, limit: int, scope: Scope | None) -> list[Relation]:
    """Visible relations from or to a visible entity, newest first. Raises: NotFoundError."""
    get_entity(conn, entity_id, scope)
    where = _visible_relations_sql(scope)
    where.require(f"(r.from_id = {where.add(entity_id)} OR r.to_id = {where.add(entity_id)})")
    rows = fetch_all(
        conn,
        f"{_RELATIONS_JOIN} WHERE {where.sql()} ORDER BY r.created_at DESC, r.relation_id DESC LIMIT ?",
        (*where.values, max(1, min(limit, MAX_EDGES))),
    )
    return [relation_from_row(r) for r in rows]


def traverse_graph(
    conn: apsw.Connection,
    start_id: str,
    max_depth: int,
    relation_types: Sequence[str],
    direction: str,
    max_nodes: int,
    scope: Scope | None,
) -> GraphTraversal:
    """Breadth-first walk by a recursive CTE (see ``GraphStore.traverse_graph``). Raises: NotFoundError."""
    check_traversal(max_depth, direction, max_nodes)
    start = get_entity(conn, start_id, scope)
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
    ceiling = scope.max_sensitivity.level if scope is not None else Sensitivity.CONFIDENTIAL.level
    cap = walk_row_cap(max_nodes)
    rows = fetch_all(
        conn,
        f"WITH RECURSIVE edges(a, b) AS ({' UNION ALL '.join(legs)}),"
        " walk(entity_id, depth) AS ("
        "  SELECT ?, 0"
        "  UNION"
        "  SELECT edges.b, walk.depth + 1 FROM walk JOIN edges ON edges.a = walk.entity_id"
        "  JOIN entities AS n ON n.entity_id = edges.b AND n.sensitivity_level <= ?"
        "  WHERE walk.depth < ?"
        "  LIMIT ?"
        ") SELECT entity_id, depth FROM walk",
        (*params, start.entity_id, ceiling, max_depth, cap + 1),
    )
    truncated = len(rows) > cap
    depth_of: dict[str, int] = {}
    for row in rows[:cap]:
        known = depth_of.get(row["entity_id"])
        if known is None or row["depth"] < known:
            depth_of[row["entity_id"]] = row["depth"]
    ordered = sorted(depth_of.items(), key=lambda kv: (kv[1], kv[0]))
    if len(ordered) > max_nodes:
        ordered, truncated = ordered[:max_nodes], True
    node_ids = [entity_id for entity_id, _ in ordered]
    entities = _entities(conn, node_ids)
    marks = ", ".join("?" * len(node_ids))
    edge_rows = fetch_all(
        conn,
        f"SELECT * FROM relations WHERE namespace = ? AND from_id IN ({marks}) AND to_id IN ({marks})"
        f"{type_sql} ORDER BY created_at, relation_id LIMIT ?",
        (start.namespace, *node_ids, *node_ids, *types, MAX_EDGES + 1),
    )
    if len(edge_rows) > MAX_EDGES:
        edge_rows, truncated = edge_rows[:MAX_EDGES], True
    return GraphTraversal(
        start_id=start.entity_id,
        nodes=[GraphNode(entity=entities[entity_id], depth=depth) for entity_id, depth in ordered],
        edges=[relation_from_row(r) for r in edge_rows],
        truncated=truncated,
    )


def _entities(conn: apsw.Connection, ids: Sequence[str]) -> dict[str, Entity]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return {
        r["entity_id"]: entity_from_row(r)
        for r in fetch_all(conn, f"SELECT * FROM entities WHERE entity_id IN ({marks})", list(ids))
    }
