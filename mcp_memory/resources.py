"""MCP resources: read-only views of rooms, timelines, identities, memories, tasks and escalations.

Templates (RFC 6570): ``memory://rooms/{room_id}``, ``memory://rooms/{room_id}/events``,
``memory://identities/{identity_id}``, ``memory://memories/{memory_id}``,
``memory://namespaces/{namespace}/memories`` (a namespace's newest memories; subscribers hear every
remember, forget, rollback and merge there), ``memory://tasks/{task_id}``,
``memory://escalations/{escalation_id}`` (with its full handoff package), ``memory://entities/{entity_id}``
(an entity with its relations), ``memory://agents/{agent}/inbox`` (an agent's unacknowledged alerts; only
the agent itself may read it), ``memory://facts/{namespace}/{key}``, ``memory://facts/{namespace}`` (first
page of its facts), ``memory://snapshots/{namespace}``, ``memory://stats/coordination/{by}`` (operators:
coordination metrics by ``agent``, ``room`` or ``week``, all time). Every read runs as the caller and inside
its scope.

``READERS`` is the one table from a template to the service call that reads it: the registered resources
and ``read_as`` (what a subscription checks before it subscribes and before each notification) use it, so
a read and a subscription always make the same scope decision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.uri_template import UriTemplate
from pydantic import BaseModel

from mcp_memory.auth import Principal
from mcp_memory.services import Service
from mcp_memory.tools._common import caller
from storage import InvalidInputError

__all__ = ["READERS", "Reader", "read_as", "register_resources", "uri_ids"]

JSON = "application/json"

#: Reads one resource as ``principal``: ``(service, principal, template variables) -> model``.
Reader = Callable[[Service, Principal, dict[str, str]], Awaitable[BaseModel]]


async def _room_events(s: Service, me: Principal, v: dict[str, str]) -> BaseModel:
    room_view = await s.rooms.get_room(me, v["room_id"])
    return await s.events.list_events(me, v["room_id"], before_index=room_view.last_event_index + 1)


#: Template -> (description, reader). Order matters only for matching: the first template that matches wins.
READERS: dict[str, tuple[str, Reader]] = {
    "memory://rooms/{room_id}/events": (
        "The room's latest events (one capped page).",
        _room_events,
    ),
    "memory://rooms/{room_id}": (
        "A room with its conversation state.",
        lambda s, me, v: s.rooms.get_conversation_state(me, v["room_id"]),
    ),
    "memory://identities/{identity_id}": (
        "A person and their addresses.",
        lambda s, me, v: s.identities.get_identity(me, v["identity_id"]),
    ),
    "memory://memories/{memory_id}": (
        "One memory, full text.",
        lambda s, me, v: s.memories.get_memory(me, v["memory_id"]),
    ),
    "memory://namespaces/{namespace}/memories": (
        "A namespace's newest memories; subscribe to hear every remember/forget there.",
        lambda s, me, v: s.memories.namespace_memories(me, v["namespace"]),
    ),
    "memory://tasks/{task_id}": (
        "One task with its version.",
        lambda s, me, v: s.tasks.get_task(me, v["task_id"]),
    ),
    "memory://escalations/{escalation_id}": (
        "An escalation and its handoff package.",
        lambda s, me, v: s.escalations.get_escalation(me, v["escalation_id"]),
    ),
    "memory://entities/{entity_id}": (
        "A graph entity with its direct relations and neighbours.",
        lambda s, me, v: s.graph.get_entity(me, v["entity_id"]),
    ),
    "memory://agents/{agent}/inbox": (
        "Your unacknowledged alerts, newest first (updated when alerts arrive).",
        lambda s, me, v: s.alerts.read_inbox(me, agent=v["agent"]),
    ),
    "memory://facts/{namespace}/{key}": (
        "One fact with its version.",
        lambda s, me, v: s.facts.get_fact(me, v["namespace"], v["key"]),
    ),
    "memory://facts/{namespace}": (
        "A namespace's facts (first page, by key).",
        lambda s, me, v: s.facts.list_facts(me, v["namespace"]),
    ),
    "memory://snapshots/{namespace}": (
        "A namespace's snapshots, newest first.",
        lambda s, me, v: s.versions.list_snapshots(me, v["namespace"]),
    ),
    "memory://stats/coordination/{by}": (
        "Operators: task completion time, rework and escalation rates per agent, room or week.",
        lambda s, me, v: s.coordination.stats(me, by=v["by"]),  # type: ignore[arg-type]  # checked there
    ),
}

_TEMPLATES = [(UriTemplate.parse(t), reader) for t, (_, reader) in READERS.items()]


async def read_as(service: Service, principal: Principal, uri: str) -> BaseModel:
    """Read the resource at ``uri`` as ``principal`` (the same call a ``resources/read`` makes).

    Raises:
        InvalidInputError: no resource template matches ``uri``.
        NotFoundError: the item is missing or hidden.
        PermissionDeniedError: the caller's policy refuses it (a namespace it may not read, another's inbox).
        StorageError: any other failure of the read.
    """
    for template, reader in _TEMPLATES:
        variables = template.match(uri)
        if variables is not None and all(isinstance(v, str) and v for v in variables.values()):
            return await reader(service, principal, {k: str(v) for k, v in variables.items()})
    raise InvalidInputError(f"no resource template matches {uri!r}: see resources/templates/list")


def uri_ids(uri: str) -> list[str]:
    """Ids in a resource URI: every second segment after the scheme (``rooms/{id}/events`` -> ``[id]``)."""
    segments = [s for s in uri.split("://", 1)[-1].split("/") if s]
    return segments[1::2]


def register_resources(server: MCPServer[Any]) -> None:
    """Register the resource templates of ``READERS`` on ``server``."""

    async def _read(ctx: Context[Any, Any], template: str, **variables: str) -> str:
        service, me = caller(ctx)
        return (await READERS[template][1](service, me, variables)).model_dump_json()

    def described(template: str) -> Callable[[Callable[..., Awaitable[str]]], Any]:
        decorator: Callable[[Callable[..., Awaitable[str]]], Any] = server.resource(
            template, mime_type=JSON, description=READERS[template][0]
        )
        return decorator

    @described("memory://rooms/{room_id}")
    async def room(room_id: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://rooms/{room_id}", room_id=room_id)

    @described("memory://rooms/{room_id}/events")
    async def room_events(room_id: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://rooms/{room_id}/events", room_id=room_id)

    @described("memory://identities/{identity_id}")
    async def identity(identity_id: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://identities/{identity_id}", identity_id=identity_id)

    @described("memory://memories/{memory_id}")
    async def memory(memory_id: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://memories/{memory_id}", memory_id=memory_id)

    @described("memory://namespaces/{namespace}/memories")
    async def namespace_memories(namespace: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://namespaces/{namespace}/memories", namespace=namespace)

    @described("memory://tasks/{task_id}")
    async def task(task_id: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://tasks/{task_id}", task_id=task_id)

    @described("memory://escalations/{escalation_id}")
    async def escalation(escalation_id: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://escalations/{escalation_id}", escalation_id=escalation_id)

    @described("memory://entities/{entity_id}")
    async def entity(entity_id: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://entities/{entity_id}", entity_id=entity_id)

    @described("memory://agents/{agent}/inbox")
    async def inbox(agent: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://agents/{agent}/inbox", agent=agent)

    @described("memory://facts/{namespace}/{key}")
    async def fact(namespace: str, key: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://facts/{namespace}/{key}", namespace=namespace, key=key)

    @described("memory://facts/{namespace}")
    async def facts(namespace: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://facts/{namespace}", namespace=namespace)

    @described("memory://snapshots/{namespace}")
    async def snapshots(namespace: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://snapshots/{namespace}", namespace=namespace)

    @described("memory://stats/coordination/{by}")
    async def coordination(by: str, ctx: Context[Any, Any]) -> str:
        return await _read(ctx, "memory://stats/coordination/{by}", by=by)
