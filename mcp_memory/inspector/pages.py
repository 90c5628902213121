"""The inspector's pages: each reads through the service as the operator and names a template.

A page function takes the request, the service and the operator's principal and returns a ``Page``.
Bad query parameters raise ``ValueError`` (400); ``StorageError``s become error pages (``app.py``).
Lists show one page at a time and link to the next (cursors and ``after_index`` as the tools use them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from mcp_memory.auth import Principal
from mcp_memory.services import Service
from storage import AuditFilter, AuditOutcome
from storage.models import (
    EscalationStatus,
    MemoryFilter,
    RoomStatus,
    SearchRequest,
    TaskStatus,
)

__all__ = ["PAGES", "Page"]

#: Items per page of a list (the service bounds it further by ``limits.max_items_per_response``).
PAGE_SIZE = 50


@dataclass
class Page:
    """A template and the values it renders."""

    template: str
    values: dict[str, Any] = field(default_factory=dict)


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value or None


def _int(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = _text(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


def _choice(request: Request, name: str, allowed: type[Any]) -> Any:
    raw = _text(request, name)
    if raw is None:
        return None
    try:
        return allowed(raw)
    except ValueError:
        choices = ", ".join(m.value for m in allowed)
        raise ValueError(f"{name} must be one of {choices}, not {raw!r}") from None


def _readable_namespaces(me: Principal) -> list[str]:
    """The namespaces the operator's policy names without wildcards (suggestions for the forms)."""
    return [ns for ns in me.scope().read_namespaces if "*" not in ns]


async def home(request: Request, service: Service, me: Principal) -> Page:
    """Overview: the newest rooms, open escalations and open tasks."""
    rooms = await service.rooms.list_rooms(me, limit=10)
    escalations = await service.escalations.list_escalations(
        me, status=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED], limit=10
    )
    tasks = await service.tasks.list_tasks(
        me, status=[TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS], limit=10
    )
    return Page(
        "home.html",
        {"rooms": rooms.rooms, "escalations": escalations.escalations, "tasks": tasks.tasks},
    )


async def rooms(request: Request, service: Service, me: Principal) -> Page:
    """Rooms the operator may read, newest first."""
    status = _choice(request, "status", RoomStatus)
    page = await service.rooms.list_rooms(me, status=status, limit=PAGE_SIZE, cursor=_text(request, "cursor"))
    return Page("rooms.html", {"rooms": page.rooms, "next_cursor": page.next_cursor, "status": status})


async def room(request: Request, service: Service, me: Principal) -> Page:
    """One room: its conversation state, participants, a page of its timeline, its tasks and escalations."""
    room_id = request.path_params["room_id"]
    found = await service.rooms.get_room(me, room_id)
    state = await service.rooms.get_conversation_state(me, room_id)
    after = _int(request, "after_index", None, 0, 2**62)
    events = await service.events.list_events(me, room_id, limit=PAGE_SIZE, after_index=after)
    tasks = await service.tasks.list_tasks(me, room_id=room_id, limit=PAGE_SIZE)
    escalations = await service.escalations.list_escalations(me, room_id=room_id, limit=PAGE_SIZE)
    return Page(
        "room.html",
        {
            "room": found,
            "state": state,
            "events": events,
            "tasks": tasks.tasks,
            "escalations": escalations.escalations,
        },
    )


async def memories(request: Request, service: Service, me: Principal) -> Page:
    """Memories: a hybrid search when ``q`` is given (ranked), else the newest, filtered by namespace/kind."""
    query, namespace, kind = _text(request, "q"), _text(request, "namespace"), _text(request, "kind")
    namespaces = [namespace] if namespace else []
    kinds = [kind] if kind else []
    values: dict[str, Any] = {
        "q": query or "",
        "namespace": namespace or "",
        "kind": kind or "",
        "suggestions": _readable_namespaces(me),
        "results": None,
        "memories": [],
        "next_cursor": None,
    }
    if query:
        request_ = SearchRequest(query=query, namespaces=namespaces, kinds=kinds, limit=PAGE_SIZE)
        values["results"] = await service.memories.search(me, request_)
    else:
        page = await service.memories.list_memories(
            me,
            MemoryFilter(namespaces=namespaces, kinds=kinds),
            limit=PAGE_SIZE,
            cursor=_text(request, "cursor"),
        )
        values.update(memories=page.memories, next_cursor=page.next_cursor)
    return Page("memories.html", values)


async def memory(request: Request, service: Service, me: Principal) -> Page:
    """One memory with every field."""
    found = await service.memories.get_memory(me, request.path_params["memory_id"])
    return Page("memory.html", {"memory": found})


async def facts(request: Request, service: Service, me: Principal) -> Page:
    """A namespace's live facts by key (pick the namespace in the form)."""
    namespace = _text(request, "namespace")
    values: dict[str, Any] = {
        "namespace": namespace or "",
        "suggestions": _readable_namespaces(me),
        "facts": [],
        "next_cursor": None,
    }
    if namespace:
        page = await service.facts.list_facts(
            me, namespace, prefix=_text(request, "prefix"), limit=PAGE_SIZE, cursor=_text(request, "cursor")
        )
        values.update(facts=page.facts, next_cursor=page.next_cursor)
    return Page("facts.html", values)


async def fact_history(request: Request, service: Service, me: Principal) -> Page:
    """Every version of one fact, newest first (deleted facts keep their history)."""
    namespace, key = _text(request, "namespace"), _text(request, "key")
    if not namespace or not key:
        raise ValueError("give both namespace and key")
    history = await service.facts.fact_history(
        me, namespace, key, limit=PAGE_SIZE, before_version=_int(request, "before_version", None, 1, 2**62)
    )
    return Page("fact.html", {"history": history})


async def tasks(request: Request, service: Service, me: Principal) -> Page:
    """Tasks, most urgent first, optionally of one status or assignee."""
    status = _choice(request, "status", TaskStatus)
    assignee = _text(request, "assignee")
    page = await service.tasks.list_tasks(
        me,
        status=[status] if status else None,
        assignee=assignee,
        limit=PAGE_SIZE,
        cursor=_text(request, "cursor"),
    )
    return Page(
        "tasks.html",
        {"tasks": page.tasks, "next_cursor": page.next_cursor, "status": status, "assignee": assignee or ""},
    )


async def escalations(request: Request, service: Service, me: Principal) -> Page:
    """Escalations of readable rooms, newest first."""
    status = _choice(request, "status", EscalationStatus)
    page = await service.escalations.list_escalations(
        me, status=[status] if status else None, limit=PAGE_SIZE, cursor=_text(request, "cursor")
    )
    return Page(
        "escalations.html",
        {"escalations": page.escalations, "next_cursor": page.next_cursor, "status": status},
    )


async def escalation(request: Request, service: Service, me: Principal) -> Page:
    """One escalation with its frozen handoff package."""
    found = await service.escalations.get_escalation(me, request.path_params["escalation_id"])
    return Page("escalation.html", {"escalation": found})


async def graph(request: Request, service: Service, me: Principal) -> Page:
    """An entity's neighbourhood: the nodes within ``depth`` hops and the relations between them."""
    entity, namespace = _text(request, "entity"), _text(request, "namespace")
    depth = _int(request, "depth", 1, 1, 4) or 1
    values: dict[str, Any] = {
        "entity": entity or "",
        "namespace": namespace or "",
        "depth": depth,
        "walk": None,
        "names": {},
    }
    if entity:
        walk = await service.graph.traverse(
            me, entity, namespace=namespace, max_depth=depth, max_nodes=PAGE_SIZE
        )
        values["walk"] = walk
        values["names"] = {n.entity.entity_id: f"{n.entity.type}:{n.entity.name}" for n in walk.nodes}
    return Page("graph.html", values)


async def audit(request: Request, service: Service, me: Principal) -> Page:
    """The audit log, newest first, filtered by agent, tool or resource, touched id and failures."""
    agent, name, item = _text(request, "agent"), _text(request, "tool"), _text(request, "item")
    errors = _text(request, "errors") is not None
    filters = AuditFilter(
        agent=agent, name=name, item_id=item, outcome=AuditOutcome.ERROR if errors else None
    )
    page = await service.audit.query(me, filters, limit=PAGE_SIZE, cursor=_text(request, "cursor"))
    return Page(
        "audit.html",
        {
            "records": page.records,
            "next_cursor": page.next_cursor,
            "agent": agent or "",
            "tool": name or "",
            "item": item or "",
            "errors": errors,
        },
    )


#: ``(path under /inspect, page function, route name)`` of every page.
PAGES = (
    ("/", home, "home"),
    ("/rooms", rooms, "rooms"),
    ("/rooms/{room_id}", room, "room"),
    ("/memories", memories, "memories"),
    ("/memories/{memory_id}", memory, "memory"),
    ("/facts", facts, "facts"),
    ("/facts/history", fact_history, "fact_history"),
    ("/tasks", tasks, "tasks"),
    ("/escalations", escalations, "escalations"),
    ("/escalations/{escalation_id}", escalation, "escalation"),
    ("/graph", graph, "graph"),
    ("/audit", audit, "audit"),
)
