"""Dispatch of the coordination areas of ``SQLiteStore``: knowledge graph, alerts.

Each method runs one function of ``storage.sqlite.graph`` / ``alerts`` in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.contracts.store import MemoryStore
from storage.models import (
    AddedRelation,
    Alert,
    Entity,
    GraphTraversal,
    InboxItem,
    NewAlert,
    NewEntity,
    NewRelation,
    Page,
    Relation,
)
from storage.paging import clamp_limit
from storage.scope import Scope
from storage.sqlite import alerts, graph
from storage.sqlite.connection import Database

__all__ = ["AlertsMixin", "GraphMixin"]


class GraphMixin(MemoryStore):
    """``GraphStore`` methods of the SQLite backend."""

    _db: Database

    async def upsert_entity(self, entity: NewEntity, *, scope: Scope | None = None) -> Entity:
        return await self._db.write(graph.upsert_entity, entity, scope)

    async def get_entity(self, entity_id: str, *, scope: Scope | None = None) -> Entity:
        return await self._db.read(graph.get_entity, entity_id, scope)

    async def find_entity(
        self, namespace: str, name: str, *, type: str | None = None, scope: Scope | None = None
    ) -> Entity:
        return await self._db.read(graph.find_entity, namespace, name, type, scope)

    async def add_relation(self, relation: NewRelation, *, scope: Scope | None = None) -> AddedRelation:
        return await self._db.write(graph.add_relation, relation, scope)

    async def list_relations(
        self, entity_id: str, *, limit: int = 50, scope: Scope | None = None
    ) -> list[Relation]:
        return await self._db.read(graph.list_relations, entity_id, limit, scope)

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
        return await self._db.read(
            graph.traverse_graph, start_id, max_depth, relation_types, direction, max_nodes, scope
        )


class AlertsMixin(MemoryStore):
    """``AlertStore`` methods of the SQLite backend."""

    _db: Database

    async def send_alert(self, alert: NewAlert) -> Alert:
        return await self._db.write(alerts.send_alert, alert)

    async def list_inbox(
        self, agent: str, *, unacked_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> Page[InboxItem]:
        return await self._db.read(alerts.list_inbox, agent, unacked_only, clamp_limit(limit), cursor)

    async def ack_alert(self, alert_id: str, agent: str) -> InboxItem:
        return await self._db.write(alerts.ack_alert, alert_id, agent)
