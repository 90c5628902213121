"""Handoffs, written once: an agent's hand-over event, and an escalation's handoff package (what goes in
it and who the customer is).

``handoff_event`` is the event ``record_handoff`` appends when a room passes from its active agent
(``None``: nobody held it) to another.

A backend reads the parts on one snapshot, in the transaction that creates the escalation (SQL is its
own), and hands them to these functions; the choice and the shape are decided here for every backend.

The customer (``HandoffPackage.identity``) is chosen by ``customer_candidates`` then ``choose_customer``:

1. the room's participants of kind ``identity`` with role ``customer`` that are still present (no
   ``left_at``), the most recent join first;
2. then those who left, the most recent join first;
3. then the sender identity of the room's newest event that names one;

and the first candidate whose identity exists wins (a participant id may name an identity that was
never created); ``None`` when no candidate exists. "Most recent join" is ``joined_at``, ties broken by
the order of joining. A re-join keeps the first ``joined_at`` (``add_participant``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from storage.errors import InvalidInputError
from storage.filters import Params
from storage.models import (
    HANDOFF_TASK_MEMORY_LIMIT,
    Event,
    EventSource,
    Fact,
    GraphTraversal,
    HandoffPackage,
    Identity,
    Memory,
    NewEvent,
    Participant,
    Room,
    Sensitivity,
    TaskRecord,
    Visibility,
    utc_now,
)
from storage.models.rooms import check_room_open

__all__ = [
    "CUSTOMER_ROLE",
    "HANDOFF_MEMORY_KINDS",
    "assemble_handoff",
    "check_task_room",
    "task_memories_sql",
    "choose_customer",
    "customer_candidates",
    "handoff_event",
    "listed_namespaces",
]

#: Role of a room's customer participant (kind ``identity``).
CUSTOMER_ROLE = "customer"
#: Memory kinds linked to the room that a package carries (``observations``, ``decisions``).
HANDOFF_MEMORY_KINDS = ("observation", "decision")


def customer_candidates(participants: Sequence[Participant], newest_sender: str | None) -> list[str]:
    """Identity ids that may be the room's customer, best first (the rule in the module docstring).

    Args:
        participants: the room's participants in the order they joined (others than customer
            identities are ignored).
        newest_sender: ``sender_identity_id`` of the room's newest event that has one, or ``None``.

    Returns:
        Distinct identity ids, best candidate first.
    """
    customers = [p for p in participants if p.kind == "identity" and p.role == CUSTOMER_ROLE]
    # Newest join first: reverse the join order, then a stable sort keeps ties in that order.
    customers.reverse()
    customers.sort(key=lambda p: p.joined_at, reverse=True)
    customers.sort(key=lambda p: p.left_at is not None)
    ids = [p.participant_id for p in customers]
    if newest_sender is not None:
        ids.append(newest_sender)
    return list(dict.fromkeys(ids))


def choose_customer(candidates: Sequence[str], identities: Mapping[str, Identity]) -> Identity | None:
    """The first candidate whose identity exists (``identities``: the existing ones by id), else ``None``."""
    return next((identities[c] for c in candidates if c in identities), None)


def listed_namespaces(metadata: Mapping[str, Any]) -> list[str]:
    """The namespaces a room lists under its ``namespaces`` metadata key, sorted, without duplicates.

    With the namespaces of the memories linked to the room they are the namespaces whose facts a
    package carries (``HandoffPackage.facts``). Anything but a list of strings lists nothing.
    """
    listed = metadata.get("namespaces")
    return sorted({n for n in listed if isinstance(n, str)}) if isinstance(listed, list) else []


def assemble_handoff(
    *,
    room: Room,
    newest_events: Sequence[Event],
    memories: Sequence[Memory],
    open_tasks: Sequence[TaskRecord],
    identity: Identity | None,
    facts: Sequence[Fact],
    customer_graph: GraphTraversal | None,
    task: TaskRecord | None = None,
    task_memories: Sequence[Memory] = (),
) -> HandoffPackage:
    """The package, frozen now.

    Args:
        room: the room.
        newest_events: its most recent events (at most the caller's ``event_limit``), newest first.
        memories: its linked memories of ``HANDOFF_MEMORY_KINDS``, by ``(created_at, memory_id)``.
        open_tasks: its tasks not done or cancelled, in listing order.
        identity: the customer (``choose_customer``).
        facts: the live facts of its namespaces, by ``(namespace, key)``, at most ``HANDOFF_FACT_LIMIT``.
        customer_graph: the customer's entity and its neighbours, or ``None``.
        task: the escalated task (``check_task_room``), or ``None``.
        task_memories: the memories recorded for it, by ``(created_at, memory_id)``, at most
            ``HANDOFF_TASK_MEMORY_LIMIT``.
    """
    return HandoffPackage(
        room=room,
        events=list(reversed(newest_events)),
        observations=[m for m in memories if m.kind == "observation"],
        decisions=[m for m in memories if m.kind == "decision"],
        open_tasks=list(open_tasks),
        identity=identity,
        frozen_at=utc_now(),
        facts=list(facts),
        customer_graph=customer_graph,
        task=task,
        task_memories=list(task_memories),
    )


def check_task_room(task: TaskRecord, room_id: str) -> None:
    """Raises: InvalidInputError: ``task`` belongs to another room than the escalated ``room_id``."""
    if task.room_id is not None and task.room_id != room_id:
        raise InvalidInputError(
            f"task {task.task_id!r} belongs to room {task.room_id!r}, not {room_id!r}: escalate that room"
        )


def handoff_event(room: Room, *, to_agent: str, by_agent: str, reason: str | None) -> NewEvent:
    """The ``handoff`` event recording that ``by_agent`` hands ``room`` from its active agent to ``to_agent``.

    Visible to agents only, internal; ``metadata``: ``from_agent`` (``None`` when nobody held the room),
    ``to_agent``, ``reason``.

    Raises:
        ConflictError: the room is closed.
    """
    check_room_open(room.room_id, room.status)
    from_agent = room.state.active_agent
    return NewEvent(
        room_id=room.room_id,
        type="handoff",
        content=f"handoff from {from_agent or 'nobody'} to {to_agent}" + (f": {reason}" if reason else ""),
        visibility=Visibility.AGENTS,
        sensitivity=Sensitivity.INTERNAL,
        source=EventSource(agent=by_agent),
        metadata={"from_agent": from_agent, "to_agent": to_agent, "reason": reason},
    )


def task_memories_sql(p: Params, task_id: str) -> str:
    """SQL: the memories recorded for ``task_id``, oldest first, at most ``HANDOFF_TASK_MEMORY_LIMIT``."""
    return (
        f"SELECT * FROM memories WHERE task_id = {p.add(task_id)}"
        f" ORDER BY created_at, memory_id LIMIT {p.add(HANDOFF_TASK_MEMORY_LIMIT)}"
    )
