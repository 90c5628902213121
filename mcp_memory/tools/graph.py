"""Knowledge-graph tools: record relations and entities, read an entity, traverse the graph."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.graph import EntityView
from mcp_memory.tools._common import READ, WRITE_IDEMPOTENT, caller
from storage.models import AddedRelation, Entity, GraphTraversal, Sensitivity

Name = Annotated[str, Field(description="Entity name, or its id (ent_...).", min_length=1, max_length=200)]
EntityType = Annotated[
    str, Field(description="person, company, customer, service, ...", min_length=1, max_length=64)
]
Namespace = Annotated[
    str | None, Field(description="e.g. shared-customer-context; default: your agent-<name>.", max_length=128)
]


def register(server: MCPServer[Any]) -> None:
    """Register the graph tools on ``server``."""

    @server.tool(annotations=WRITE_IDEMPOTENT)
    async def add_relation(
        ctx: Context[Any, Any],
        source: Name,
        relation_type: Annotated[
            str,
            Field(
                description="relates_to, works_at, part_of, depends_on or a custom snake_case type.",
                max_length=64,
            ),
        ],
        target: Name,
        namespace: Namespace = None,
        source_type: EntityType = "entity",
        target_type: EntityType = "entity",
        confidence: Annotated[float, Field(description="0 to 1: how sure you are.", ge=0.0, le=1.0)] = 1.0,
        properties: Annotated[
            dict[str, Any] | None, Field(description='JSON attributes of the relation, e.g. {"since": 2021}.')
        ] = None,
    ) -> AddedRelation:
        """Record that source relates to target (creates missing entities); repeating it updates confidence."""
        service, me = caller(ctx)
        return await service.graph.add_relation(
            me,
            source,
            relation_type,
            target,
            namespace=namespace,
            source_type=source_type,
            target_type=target_type,
            confidence=confidence,
            properties=properties,
        )

    @server.tool(annotations=WRITE_IDEMPOTENT)
    async def set_entity(
        ctx: Context[Any, Any],
        name: Annotated[str, Field(description="Its name, e.g. Acme Corp.", min_length=1, max_length=200)],
        type: EntityType = "entity",
        namespace: Namespace = None,
        properties: Annotated[
            dict[str, Any] | None, Field(description="Merged into existing ones; null removes a key.")
        ] = None,
        sensitivity: Annotated[
            Sensitivity | None, Field(description="Who may read it: up to your clearance.")
        ] = None,
    ) -> Entity:
        """Create a graph entity or update its properties (e.g. link a person to identity_id)."""
        service, me = caller(ctx)
        return await service.graph.set_entity(
            me, name, type=type, namespace=namespace, properties=properties, sensitivity=sensitivity
        )

    @server.tool(annotations=READ)
    async def get_entity(
        ctx: Context[Any, Any],
        entity: Name,
        namespace: Namespace = None,
        type: Annotated[
            str | None, Field(description="Its type, when several entities share the name.", max_length=64)
        ] = None,
    ) -> EntityView:
        """Look up an entity with its direct relations and neighbours."""
        service, me = caller(ctx)
        return await service.graph.get_entity(me, entity, namespace=namespace, type=type)

    @server.tool(annotations=READ)
    async def traverse_graph(
        ctx: Context[Any, Any],
        start: Name,
        namespace: Namespace = None,
        max_depth: Annotated[int, Field(description="Hops from start.", ge=1, le=6)] = 2,
        relation_types: Annotated[
            list[str] | None, Field(description="Follow only these types.", max_length=16)
        ] = None,
        direction: Annotated[
            Literal["out", "in", "both"],
            Field(description="Follow relations from it (out), to it (in) or both."),
        ] = "both",
        max_nodes: Annotated[int, Field(description="Stop after this many entities.", ge=1, le=500)] = 50,
    ) -> GraphTraversal:
        """Explore what is connected to an entity, up to max_depth hops (cycle-safe, capped)."""
        service, me = caller(ctx)
        return await service.graph.traverse(
            me,
            start,
            namespace=namespace,
            max_depth=max_depth,
            relation_types=relation_types or [],
            direction=direction,
            max_nodes=max_nodes,
        )
