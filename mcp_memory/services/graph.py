"""Knowledge graph: entities and typed relations in namespaces, traversal, with the memory read/write policy.

Entities and relations live in namespaces (default: the caller's private ``agent-<name>``) and obey the
same ``read_namespaces`` / ``write_namespaces`` and clearance as memories. ``start`` and ``entity``
arguments take an entity id (``ent_…``) or an entity name in the given namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.context import ServiceContext
from storage import NotFoundError, PermissionDeniedError
from storage.models import (
    AddedRelation,
    Entity,
    EntityRef,
    GraphTraversal,
    NewEntity,
    NewRelation,
    Relation,
    Sensitivity,
)

__all__ = ["EntityView", "GraphService", "entity_uri"]

GROUP = "graph"


def entity_uri(entity_id: str) -> str:
    """``memory://entities/{entity_id}``: an entity with its relations (published when either changes)."""
    return f"memory://entities/{entity_id}"


class EntityView(BaseModel):
    """An entity with its direct relations (both directions) and the entities at their other ends.

    ``truncated``: the entity has more relations than were returned.
    """

    model_config = ConfigDict(frozen=True)

    entity: Entity
    relations: list[Relation]
    neighbours: list[Entity]
    truncated: bool


class GraphService(AuditedArea, area="graph"):
    """Entities, relations and traversal for agents, inside their scope."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def _namespace(self, principal: Principal, namespace: str | None) -> str:
        return namespace or f"agent-{principal.agent.lower()}"

    def _writable(self, principal: Principal, namespace: str) -> None:
        scope = principal.scope()
        if not scope.can_write(namespace):
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not write namespace {namespace!r}; writable: "
                f"{', '.join(scope.write_namespaces)}"
            )

    async def set_entity(
        self,
        principal: Principal,
        name: str,
        *,
        type: str = "entity",
        namespace: str | None = None,
        properties: dict[str, Any] | None = None,
        sensitivity: Sensitivity | None = None,
    ) -> Entity:
        """Create an entity or update its properties (merged; a key set to null is removed).

        Raises:
            PermissionDeniedError: namespace not writable, or sensitivity above the caller's clearance.
        """
        self._ctx.require_group(principal, GROUP)
        target = self._namespace(principal, namespace)
        self._writable(principal, target)
        if sensitivity is not None:
            self._ctx.require_clearance(principal, sensitivity)
        entity = NewEntity(
            namespace=target,
            type=type,
            name=name,
            properties=properties or {},
            sensitivity=sensitivity,
            created_by=principal.agent,
        )
        saved = await self._ctx.store.upsert_entity(entity, scope=principal.scope())
        await self._ctx.changes.publish(entity_uri(saved.entity_id))
        return saved

    async def add_relation(
        self,
        principal: Principal,
        source: str,
        relation_type: str,
        target: str,
        *,
        namespace: str | None = None,
        source_type: str = "entity",
        target_type: str = "entity",
        confidence: float = 1.0,
        properties: dict[str, Any] | None = None,
    ) -> AddedRelation:
        """Record ``source -[relation_type]-> target``; missing entities are created. Re-adding updates it.

        Raises:
            PermissionDeniedError: namespace not writable, or an existing entity above the clearance.
        """
        self._ctx.require_group(principal, GROUP)
        target_ns = self._namespace(principal, namespace)
        self._writable(principal, target_ns)
        relation = NewRelation(
            namespace=target_ns,
            source=EntityRef(type=source_type, name=source),
            type=relation_type,
            target=EntityRef(type=target_type, name=target),
            confidence=confidence,
            properties=properties or {},
            discovered_by=principal.agent,
        )
        added = await self._ctx.store.add_relation(relation, scope=principal.scope())
        await self._ctx.changes.publish(
            entity_uri(added.relation.source_id), entity_uri(added.relation.target_id)
        )
        return added

    async def resolve(
        self, principal: Principal, entity: str, *, namespace: str | None = None, type: str | None = None
    ) -> Entity:
        """Find an entity by id (``ent_…``) or by name in ``namespace``. Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        scope = principal.scope()
        if entity.startswith("ent_"):
            try:
                return await self._ctx.store.get_entity(entity, scope=scope)
            except NotFoundError:
                pass
        target = self._namespace(principal, namespace)
        try:
            return await self._ctx.store.find_entity(target, entity, type=type, scope=scope)
        except NotFoundError:
            raise NotFoundError("entity", f"{entity} (in namespace {target})") from None

    async def get_entity(
        self,
        principal: Principal,
        entity: str,
        *,
        namespace: str | None = None,
        type: str | None = None,
        limit: int = 25,
    ) -> EntityView:
        """An entity with its direct relations and neighbours (at most ``limit`` neighbours).

        Raises:
            NotFoundError: no such entity visible to the caller.
        """
        found = await self.resolve(principal, entity, namespace=namespace, type=type)
        walk = await self._ctx.store.traverse_graph(
            found.entity_id, max_depth=1, max_nodes=self._ctx.page_size(limit) + 1, scope=principal.scope()
        )
        touching = [e for e in walk.edges if found.entity_id in (e.source_id, e.target_id)]
        return EntityView(
            entity=walk.nodes[0].entity,
            relations=touching,
            neighbours=[n.entity for n in walk.nodes[1:]],
            truncated=walk.truncated,
        )

    async def traverse(
        self,
        principal: Principal,
        start: str,
        *,
        namespace: str | None = None,
        start_type: str | None = None,
        max_depth: int = 2,
        relation_types: Sequence[str] = (),
        direction: str = "both",
        max_nodes: int = 50,
    ) -> GraphTraversal:
        """The subgraph within ``max_depth`` hops of ``start`` (nodes capped by the response limit).

        Raises:
            NotFoundError: the start is not visible. InvalidInputError: bad bounds or direction.
        """
        found = await self.resolve(principal, start, namespace=namespace, type=start_type)
        return await self._ctx.store.traverse_graph(
            found.entity_id,
            max_depth=max_depth,
            relation_types=relation_types,
            direction=direction,
            max_nodes=self._ctx.page_size(max_nodes),
            scope=principal.scope(),
        )
