"""MCP resources: read-only views of rooms, timelines, identities, memories, tasks and escalations.

Templates (RFC 6570): ``memory://rooms/{room_id}``, ``memory://rooms/{room_id}/events``,
``memory://identities/{identity_id}``, ``memory://memories/{memory_id}``,
``memory://namespaces/{namespace}/memories`` (a namespace's newest memories; subscribers hear every
remember, forget, rollback and merge there), ``memory://tasks/{task_id}``,
``memory://escalations/{escalation_id}`` (with its full handoff package), ``memory://entities/{entity_id}``
(an entity with its relations), ``memory://agents/{agent}/inbox`` (an agent's unacknowledged alerts; only
the agent itself may read it), ``memory://facts/{namespace}/{key}``, ``memory://facts/{namespace}`` (first
page of its facts), ``memory://snapshots/{namespace}``, ``memory://stats/coordination/{by}`` (operators:
coordination metrics by ``agent``, ``room`` or ``week``, all time). Every read runs as the caller and inside its scope.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

from mcp_memory.tools._common import caller

__all__ = ["register_resources"]

JSON = "application/json"


def register_resources(server: MCPServer[Any]) -> None:
    """Register the resource templates on ``server``."""

    @server.resource(
        "memory://rooms/{room_id}", mime_type=JSON, description="A room with its conversation state."
    )
    async def room(room_id: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.rooms.get_conversation_state(me, room_id))

    @server.resource(
        "memory://rooms/{room_id}/events",
        mime_type=JSON,
        description="The room's latest events (one capped page).",
    )
    async def room_events(room_id: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        room_view = await service.rooms.get_room(me, room_id)
        return await _json(
            service.events.list_events(me, room_id, before_index=room_view.last_event_index + 1)
        )

    @server.resource(
        "memory://identities/{identity_id}", mime_type=JSON, description="A person and their addresses."
    )
    async def identity(identity_id: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.identities.get_identity(me, identity_id))

    @server.resource("memory://memories/{memory_id}", mime_type=JSON, description="One memory, full text.")
    async def memory(memory_id: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.memories.get_memory(me, memory_id))

    @server.resource(
        "memory://namespaces/{namespace}/memories",
        mime_type=JSON,
        description="A namespace's newest memories; subscribe to hear every remember/forget there.",
    )
    async def namespace_memories(namespace: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.memories.namespace_memories(me, namespace))

    @server.resource("memory://tasks/{task_id}", mime_type=JSON, description="One task with its version.")
    async def task(task_id: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.tasks.get_task(me, task_id))

    @server.resource(
        "memory://escalations/{escalation_id}",
        mime_type=JSON,
        description="An escalation and its handoff package.",
    )
    async def escalation(escalation_id: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.escalations.get_escalation(me, escalation_id))

    @server.resource(
        "memory://entities/{entity_id}",
        mime_type=JSON,
        description="A graph entity with its direct relations and neighbours.",
    )
    async def entity(entity_id: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.graph.get_entity(me, entity_id))

    @server.resource(
        "memory://agents/{agent}/inbox",
        mime_type=JSON,
        description="Your unacknowledged alerts, newest first (updated when alerts arrive).",
    )
    async def inbox(agent: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.alerts.read_inbox(me, agent=agent))

    @server.resource(
        "memory://facts/{namespace}/{key}", mime_type=JSON, description="One fact with its version."
    )
    async def fact(namespace: str, key: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.facts.get_fact(me, namespace, key))

    @server.resource(
        "memory://facts/{namespace}", mime_type=JSON, description="A namespace's facts (first page, by key)."
    )
    async def facts(namespace: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.facts.list_facts(me, namespace))

    @server.resource(
        "memory://snapshots/{namespace}", mime_type=JSON, description="A namespace's snapshots, newest first."
    )
    async def snapshots(namespace: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.versions.list_snapshots(me, namespace))

    @server.resource(
        "memory://stats/coordination/{by}",
        mime_type=JSON,
        description="Operators: task completion time, rework and escalation rates per agent, room or week.",
    )
    async def coordination(by: str, ctx: Context[Any, Any]) -> str:
        service, me = caller(ctx)
        return await _json(service.coordination.stats(me, by=by))  # type: ignore[arg-type]  # checked there


async def _json(pending: Awaitable[BaseModel]) -> str:
    """The JSON of a service result (errors are mapped by the server's ``read_resource``)."""
    return (await pending).model_dump_json()
