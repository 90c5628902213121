"""The knowledge graph on PostgreSQL: ``PostgresGraph`` (entities, relations, traversal by a recursive CTE).

Visibility follows ``storage.contracts.graph``: an entity is visible when its namespace is readable in the
scope (``LIKE ANY`` of the scope's patterns) and its sensitivity level is within the clearance. The rules
shared with SQLite (access checks, property merges, shaping a walk) are in ``storage.traversal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

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
from storage.postgres.core import PostgresCore
from storage.postgres.rows import ROWS
from storage.queries.graph import GraphQueries
from storage.scope import Scope

__all__ = ["PostgresGraph"]

Row = Mapping[str, Any]


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


class PostgresGraph(GraphQueries, PostgresCore):
    """``GraphStore``'s writes on PostgreSQL (reads: ``GraphQueries``)."""

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
