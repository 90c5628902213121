"""Result shapes the service returns to tools and Python callers (pydantic, so they serialise as-is)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from storage.models import (
    ChannelBinding,
    ConversationState,
    EscalationStatus,
    Event,
    Identity,
    Memory,
    Participant,
    Room,
    TaskRecord,
)

__all__ = [
    "ChannelBindings",
    "CustomerHistory",
    "CustomerRoom",
    "EscalationPage",
    "EscalationSummary",
    "EventPage",
    "HandoffResult",
    "MemoryPage",
    "Participants",
    "ResolvedIdentity",
    "RoomPage",
    "RoomStateView",
    "SearchResultItem",
    "SearchResults",
    "StoredEvent",
    "TaskPage",
]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class StoredEvent(_Result):
    """An appended event; ``created`` is False when the idempotency key matched an earlier event."""

    event: Event
    created: bool


class EventPage(_Result):
    """Events in ascending index order. Continue with ``after_index = next_after_index`` while ``has_more``."""

    room_id: str
    events: list[Event]
    has_more: bool
    next_after_index: int | None


class RoomPage(_Result):
    rooms: list[Room]
    next_cursor: str | None


class Participants(_Result):
    """A room's participants after a change, in order of joining (those who left included, with ``left_at``)."""

    room_id: str
    participants: list[Participant]


class ChannelBindings(_Result):
    """A room's channel bindings after a change (or as listed), oldest first."""

    room_id: str
    bindings: list[ChannelBinding]


class RoomStateView(_Result):
    """A room's conversation state with its current participants."""

    room_id: str
    status: str
    state: ConversationState
    participants: list[Participant]
    last_event_index: int


class HandoffResult(_Result):
    """The new conversation state after a handoff and the ``handoff`` event recorded in the timeline."""

    state: ConversationState
    event: Event


class ResolvedIdentity(_Result):
    """The identity owning an address; ``created`` is True when this call created it."""

    identity: Identity
    created: bool


class MemoryPage(_Result):
    memories: list[Memory]
    next_cursor: str | None


class SearchResultItem(_Result):
    """One search result, flattened for an agent to read.

    ``score``: fused reciprocal-rank score (higher is better). ``at``: memory ``created_at`` or event
    ``occurred_at``. For an event, ``room_id`` and ``index`` locate it and ``namespace`` is empty.
    """

    type: Literal["memory", "event"]
    id: str
    score: float
    content: str
    at: datetime
    namespace: str | None = None
    kind: str | None = None
    tags: list[str] = []
    room_id: str | None = None
    index: int | None = None
    author: str | None = None
    sensitivity: str
    truncated: bool = False


class SearchResults(_Result):
    """Results best first; ``mode`` says whether vectors took part (``hybrid``) or not (``lexical``)."""

    query: str
    mode: Literal["hybrid", "lexical"]
    results: list[SearchResultItem]
    cut_to_fit: bool = False


class TaskPage(_Result):
    tasks: list[TaskRecord]
    next_cursor: str | None


class EscalationSummary(_Result):
    """An escalation without its handoff package (read ``memory://escalations/{id}`` for the package)."""

    escalation_id: str
    room_id: str
    task_id: str | None = None
    reason: str
    queue: str | None
    assignee: str | None
    priority: int
    status: EscalationStatus
    created_by: str | None
    created_at: datetime
    acknowledged_by: str | None = None
    resolution: str | None = None
    handoff_event_count: int
    handoff_open_task_count: int
    handoff_fact_count: int = 0


class EscalationPage(_Result):
    escalations: list[EscalationSummary]
    next_cursor: str | None


class CustomerRoom(_Result):
    """One room of a customer's history: the room, its latest events (oldest first), its open tasks
    (not done or cancelled) and its escalations not yet resolved."""

    room: Room
    recent_events: list[Event]
    open_tasks: list[TaskRecord]
    open_escalations: list[EscalationSummary]


class CustomerHistory(_Result):
    """A person's rooms across channels, newest first; continue with ``next_cursor``."""

    identity: Identity
    rooms: list[CustomerRoom]
    next_cursor: str | None
