"""Escalation records: a hand-over to a human and its frozen handoff package."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import Field

from storage.errors import ConflictError
from storage.models.common import Id, _Record
from storage.models.events import Event
from storage.models.facts import Fact
from storage.models.graph import GraphTraversal
from storage.models.identities import Identity
from storage.models.memories import Memory
from storage.models.rooms import Room
from storage.models.tasks import TaskRecord

__all__ = [
    "CUSTOMER_GRAPH_MAX_NODES",
    "Escalation",
    "EscalationStatus",
    "HANDOFF_FACT_LIMIT",
    "HANDOFF_TASK_MEMORY_LIMIT",
    "HandoffPackage",
    "NewEscalation",
    "check_escalation_transition",
]


#: Most graph nodes (the customer's entity included) frozen into a handoff package.
CUSTOMER_GRAPH_MAX_NODES = 50


class EscalationStatus(enum.StrEnum):
    """Life cycle of an escalation: ``open -> acknowledged -> resolved`` (``open -> resolved`` allowed)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class HandoffPackage(_Record):
    """Everything a human needs to take over a room, frozen when the escalation was created.

    ``events``: the room's most recent events, oldest first. ``observations`` / ``decisions``: memories of
    those kinds linked to the room. ``open_tasks``: tasks of the room not done or cancelled. ``identity``:
    the customer: the present customer participant who joined last, else one who left, else the newest
    event's sender, the first whose identity exists (the rule of ``storage.handoff``).
    ``facts``: the live facts of the room's namespaces (the namespaces of memories linked to the room,
    plus the names listed under the room's ``namespaces`` metadata key; branch namespaces excluded),
    ordered by namespace then key, at most ``HANDOFF_FACT_LIMIT``.
    ``task`` / ``task_memories``: for an escalation from a task, the task as it was and the memories
    recorded for it (``Memory.task_id``), oldest first, at most ``HANDOFF_TASK_MEMORY_LIMIT``.
    ``customer_graph``: the customer's entity and its direct neighbours in the knowledge graph (depth 1,
    at most ``CUSTOMER_GRAPH_MAX_NODES`` nodes), or ``None``. The customer's entity is the entity whose
    ``properties.identity_id`` is the customer's identity id, or whose name is that id; when several
    match (in any namespace), the oldest (then lowest id).
    """

    room: Room
    events: list[Event]
    observations: list[Memory]
    decisions: list[Memory]
    open_tasks: list[TaskRecord]
    identity: Identity | None
    frozen_at: datetime
    facts: list[Fact] = Field(default_factory=list)
    customer_graph: GraphTraversal | None = None
    task: TaskRecord | None = None
    task_memories: list[Memory] = Field(default_factory=list)


class NewEscalation(_Record):
    """A hand-over of a room to a human queue or person; ``task_id``: the task it escalates (in that room,
    or in none)."""

    room_id: Id
    task_id: str | None = Field(default=None, max_length=128)
    reason: str = Field(min_length=1, max_length=4_000)
    queue: str | None = Field(default=None, max_length=128)
    assignee: str | None = Field(default=None, max_length=128)
    priority: int = Field(default=2, ge=0, le=3)
    created_by: str | None = Field(default=None, max_length=128)


class Escalation(_Record):
    """An escalation with its frozen handoff package and its life cycle."""

    escalation_id: str
    room_id: str
    reason: str
    queue: str | None
    assignee: str | None
    priority: int
    status: EscalationStatus
    created_by: str | None
    created_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    handoff: HandoffPackage

    @property
    def task_id(self) -> str | None:
        """The task this escalation came from (frozen in its package), if any."""
        return self.handoff.task.task_id if self.handoff.task is not None else None


#: Most facts a handoff package holds (the first by namespace, key).
HANDOFF_FACT_LIMIT = 200

#: Most memories recorded for its task a handoff package holds (the oldest first).
HANDOFF_TASK_MEMORY_LIMIT = 100


#: The statuses an escalation may move to from each status.
_NEXT_STATUSES = {
    EscalationStatus.OPEN: (EscalationStatus.ACKNOWLEDGED, EscalationStatus.RESOLVED),
    EscalationStatus.ACKNOWLEDGED: (EscalationStatus.RESOLVED,),
    EscalationStatus.RESOLVED: (),
}


def check_escalation_transition(escalation: Escalation, target: EscalationStatus) -> None:
    """Raises: ConflictError (carrying ``escalation``): it cannot move from its status to ``target``."""
    if target not in _NEXT_STATUSES[escalation.status]:
        allowed = " or ".join(s.value for s in EscalationStatus if target in _NEXT_STATUSES[s])
        raise ConflictError(
            f"escalation {escalation.escalation_id!r} is {escalation.status.value}: only an {allowed} one "
            f"can become {target.value}",
            current=escalation,
        )
