"""The knowledge graph on SQLite: ``SQLiteGraph`` (entities, relations, traversal by a recursive CTE).

Visibility follows ``storage.contracts.graph``: an entity is visible when its namespace is readable in the
scope and its sensitivity level is within the clearance. The rules shared with PostgreSQL (access checks,
property merges, shaping a walk) are in ``storage.traversal``; this module holds the SQL.
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from storage import traversal
from storage.models import (
    AddedRelation,
    Entity,
    EntityRef,
    NewEntity,
    NewRelation,
    Sensitivity,
    new_id,
    utc_now,
)
from storage.queries.graph import GraphQueries, entity_plan
from storage.scope import Scope
from storage.sqlite.core import SQLITE, SQLiteCore, run_sqlite_plan
from storage.sqlite.rows import ROWS, fetch_one, to_json, ts

__all__ = ["SQLiteGraph"]


def _entity(conn: apsw.Connection, entity_id: str) -> Entity:
    return run_sqlite_plan(conn, entity_plan(SQLITE, entity_id, None))


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
        return _entity(conn, entity_id), True
    traversal.check_clearance(scope, row["sensitivity"], f"entity {ref.type}/{ref.name}")
    if properties or sensitivity is not None:
        merged = traversal.merge_properties(json.loads(row["properties"]), properties)
        level = row["sensitivity"] if sensitivity is None else sensitivity.level
        conn.execute(
            "UPDATE entities SET properties = ?, sensitivity = ?, updated_at = ? WHERE entity_id = ?",
            (to_json(merged, "properties"), level, now, row["entity_id"]),
        )
    return _entity(conn, row["entity_id"]), False


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


class SQLiteGraph(GraphQueries, SQLiteCore):
    """``GraphStore``'s writes on SQLite, one ``Database`` write transaction each (reads: ``GraphQueries``)."""

    async def upsert_entity(self, entity: NewEntity, *, scope: Scope | None = None) -> Entity:
        traversal.check_writable(scope, entity.namespace)
        return await self._db.write(_upsert_entity, entity, scope)

    async def add_relation(self, relation: NewRelation, *, scope: Scope | None = None) -> AddedRelation:
        traversal.check_writable(scope, relation.namespace)
        return await self._db.write(_add_relation, relation, scope)
