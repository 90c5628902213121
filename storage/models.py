"""Records shared by every layer: what the store takes in and gives back.

All timestamps are timezone-aware UTC ``datetime`` values named ``*_at``. Ids are opaque strings made by
the store (a short type prefix and 16 hex digits, e.g. ``mem_3f9c0a1b2d4e5f60``) unless the caller gives one.
Models are frozen: a record read from the store is a value, not a handle.
"""

from __future__ import annotations

import enum
import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from storage.indexing import SENDER_BOOST
from storage.models_retention import DecayRule
from storage.ranking import VECTOR_WEIGHT

__all__ = [
    "Address",
    "AppendResult",
    "CUSTOMER_GRAPH_MAX_NODES",
    "ChannelBinding",
    "ConversationState",
    "DEFAULT_ROOM_NAMESPACE",
    "Escalation",
    "EscalationStatus",
    "Event",
    "EventSource",
    "HANDOFF_FACT_LIMIT",
    "HandoffPackage",
    "Identity",
    "Memory",
    "MemoryFilter",
    "NAMESPACE_PATTERN",
    "NewEscalation",
    "NewEvent",
    "NewMemory",
    "NewRoom",
    "NewTask",
    "Page",
    "Participant",
    "Room",
    "RoomStatus",
    "SearchHit",
    "SearchRequest",
    "Sensitivity",
    "TaskRecord",
    "TaskStatus",
    "TaskUpdate",
    "Visibility",
    "new_id",
    "utc_now",
]

T = TypeVar("T")

#: Most graph nodes (the customer's entity included) frozen into a handoff package.
CUSTOMER_GRAPH_MAX_NODES = 50

#: Namespaces are lowercase words joined by ``-``, ``_``, ``.`` or ``:`` (``agent-billing``,
#: ``shared-customer-context``). Scope patterns add ``*`` as a wildcard (``shared-*``).
NAMESPACE_PATTERN = r"^[a-z0-9][a-z0-9._:-]{0,127}$"
_NAMESPACE_RE = re.compile(NAMESPACE_PATTERN)

#: Longest stored content of an event / a memory. Plain text is capped lower (100,000 / 20,000 characters,
#: the tools' bounds); sealed confidential text (``enc:v1:`` + base64 of nonce, UTF-8 bytes and tag, up to
#: 4 bytes per character) is longer: 7 + 4 * ceil((28 + 4 * n) / 3) characters.
MAX_EVENT_CONTENT = 533_379
MAX_MEMORY_CONTENT = 106_711

#: Namespace of a room created without one. Shared: the default policy reads and writes ``shared-*``.
DEFAULT_ROOM_NAMESPACE = "shared-rooms"


def utc_now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime (microsecond precision)."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """Return a new random id ``{prefix}_{16 hex digits}`` (64 random bits)."""
    return f"{prefix}_{secrets.token_hex(8)}"


def _check_namespace(value: str) -> str:
    if not _NAMESPACE_RE.match(value):
        raise ValueError(
            f"namespace {value!r} is not valid: use lowercase letters, digits and . _ : - "
            "(1-128 characters, starting with a letter or digit)"
        )
    return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return value.astimezone(UTC)


Namespace = Annotated[str, AfterValidator(_check_namespace)]
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$")]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
MetadataValue = str | int | float | bool | None


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sensitivity(enum.StrEnum):
    """How confidential an item is; ordered ``public < internal < confidential``."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"

    @property
    def level(self) -> int:
        """0 for public, 1 for internal, 2 for confidential."""
        return _SENSITIVITY_LEVEL[self]

    @classmethod
    def at_most(cls, ceiling: Sensitivity) -> list[Sensitivity]:
        """Every sensitivity a caller with clearance ``ceiling`` may read, lowest first."""
        return [s for s in cls if s.level <= ceiling.level]


_SENSITIVITY_LEVEL = {Sensitivity.PUBLIC: 0, Sensitivity.INTERNAL: 1, Sensitivity.CONFIDENTIAL: 2}


class Visibility(enum.StrEnum):
    """Who an event is for: ``all`` (every participant, customers included) or ``agents`` (agents only)."""

    ALL = "all"
    AGENTS = "agents"


class RoomStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TaskStatus(enum.StrEnum):
    """Life cycle of a task: ``open -> claimed -> in_progress -> done``; ``cancelled`` from any open state."""

    OPEN = "open"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class EscalationStatus(enum.StrEnum):
    """Life cycle of an escalation: ``open -> acknowledged -> resolved`` (``open -> resolved`` allowed)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Page(BaseModel, Generic[T]):
    """One page of a listing. ``next_cursor`` is ``None`` on the last page; pass it back to continue."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_cursor: str | None = None


# --- rooms -------------------------------------------------------------------------------------------


class ConversationState(_Record):
    """State of a conversation that lives in the room, not in any agent.

    ``version`` starts at 1 and grows by one on every change of the state.
    """

    active_agent: str | None = None
    phase: str | None = None
    handoff_count: int = 0
    version: int = 1
    updated_at: datetime


class NewRoom(_Record):
    """A room to create. ``room_id`` is generated (``room_…``) when omitted.

    ``namespace``: who may see the room and its events, with the same rules as memories: an agent reads
    the room's events when its scope reads the namespace, and appends when its scope writes it.
    """

    room_id: Id | None = None
    namespace: Namespace = DEFAULT_ROOM_NAMESPACE
    name: str | None = Field(default=None, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_by: str | None = None


class Room(_Record):
    """One conversation. ``last_event_index`` is the index of its newest event (0 when empty).

    ``namespace`` governs who may read the room and its events (see ``NewRoom``).
    """

    room_id: str
    namespace: str = DEFAULT_ROOM_NAMESPACE
    name: str | None
    status: RoomStatus
    metadata: dict[str, Any]
    state: ConversationState
    last_event_index: int
    created_by: str | None
    created_at: datetime
    closed_at: datetime | None = None


class Participant(_Record):
    """Someone in a room: an agent (``kind='agent'``) or a person (``kind='identity'``, id of an identity)."""

    room_id: str
    participant_id: str
    kind: Literal["agent", "identity", "human"]
    role: str | None = None
    joined_at: datetime
    left_at: datetime | None = None


class ChannelBinding(_Record):
    """A channel (SMS number, email thread, web chat...) attached to a room, with per-binding config."""

    room_id: str
    channel_id: str
    channel_type: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


# --- events ------------------------------------------------------------------------------------------


class EventSource(_Record):
    """Where an event came from: the channel, the sending person's identity, and/or the writing agent."""

    channel_type: str | None = Field(default=None, max_length=64)
    channel_id: str | None = Field(default=None, max_length=200)
    sender_identity_id: str | None = Field(default=None, max_length=128)
    agent: str | None = Field(default=None, max_length=128)


class NewEvent(_Record):
    """An event to append to a room's timeline.

    ``idempotency_key``: a retry with the same key in the same room returns the first event unchanged.
    ``occurred_at``: when it happened (defaults to now); the store records ``created_at`` itself.
    """

    room_id: Id
    type: str = Field(default="message", min_length=1, max_length=64)
    content: str = Field(max_length=MAX_EVENT_CONTENT)
    visibility: Visibility = Visibility.ALL
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    source: EventSource = Field(default_factory=EventSource)
    metadata: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    occurred_at: UtcDatetime | None = None


class Event(_Record):
    """One entry of a room's timeline; ``index`` is per room, starts at 1, monotonic and gapless."""

    event_id: str
    room_id: str
    index: int
    type: str
    content: str
    visibility: Visibility
    sensitivity: Sensitivity
    source: EventSource
    metadata: dict[str, Any]
    idempotency_key: str | None
    occurred_at: datetime
    created_at: datetime


class AppendResult(_Record):
    """Outcome of ``append_event``: ``created`` is False when an idempotency key matched an earlier event."""

    event: Event
    created: bool


# --- identities --------------------------------------------------------------------------------------


class Address(_Record):
    """A ``(channel_type, address)`` pair owned by exactly one identity (e.g. ``('sms', '+15551234')``)."""

    channel_type: str
    address: str
    identity_id: str
    created_at: datetime


class Identity(_Record):
    """One person across channels, with every address linked to them (oldest first)."""

    identity_id: str
    display_name: str | None
    metadata: dict[str, Any]
    addresses: list[Address]
    created_at: datetime


# --- memories ----------------------------------------------------------------------------------------


class NewMemory(_Record):
    """A memory to store.

    ``kind`` is free text with conventional values ``note``, ``observation``, ``decision``, ``learning``,
    ``success``, ``failure``, ``pattern``, ``recommendation``. ``importance`` is in [0, 1].
    """

    namespace: Namespace
    content: str = Field(min_length=1, max_length=MAX_MEMORY_CONTENT)
    kind: str = Field(default="note", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")
    session_id: str | None = Field(default=None, max_length=128)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    metadata: dict[str, Any] = Field(default_factory=dict)
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    importance: float = Field(default=0.5, ge=0.0, le=1.0)
    author: str | None = Field(default=None, max_length=128)
    room_id: str | None = Field(default=None, max_length=128)
    task_id: str | None = Field(default=None, max_length=128)


class Memory(_Record):
    """A unit of long-term knowledge. The embedding is not part of the record."""

    memory_id: str
    namespace: str
    content: str
    kind: str
    session_id: str | None
    tags: list[str]
    metadata: dict[str, Any]
    sensitivity: Sensitivity
    importance: float
    author: str | None
    room_id: str | None
    task_id: str | None
    created_at: datetime
    updated_at: datetime


class MemoryFilter(_Record):
    """Filters shared by listing and search; every field narrows (AND). Empty lists mean "no filter".

    ``tags``: the memory carries every one of them. ``metadata``: top-level keys equal to these scalar
    values. ``created_after``/``created_before``: half-open ``[after, before)`` on the item's time
    (``created_at`` of a memory, ``occurred_at`` of an event).
    """

    namespaces: list[str] = Field(default_factory=list, max_length=64)
    session_id: str | None = None
    room_id: str | None = None
    kinds: list[str] = Field(default_factory=list, max_length=32)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    created_after: UtcDatetime | None = None
    created_before: UtcDatetime | None = None
    max_sensitivity: Sensitivity | None = None


class SearchRequest(MemoryFilter):
    """A hybrid search: ``query`` text, the filters of ``MemoryFilter``, and ranking knobs.

    ``include_events`` adds room events (their content, type and room) to the candidates; filters that only
    memories carry (namespaces, session, kinds, tags) exclude events when set. ``half_life_hours`` turns on
    recency decay (score times 0.5 ** (age / half-life)); ``importance_weight`` scales memories by
    ``1 + weight * importance``. ``vector_weight``: weight of the vector candidates' reciprocal ranks
    against 1.0 for the lexical ones (``storage.ranking.VECTOR_WEIGHT``). ``sender_boost``: events whose
    sender the query names score ``1 + sender_boost`` times more (``storage.indexing.SENDER_BOOST``).
    recency decay (score times 0.5 ** (age / half-life)); ``decay_rules`` add per-namespace decay of
    memories (``storage.ranking.decay_factor``; the service fills them from the retention config);
    ``importance_weight`` scales memories by
    ``1 + weight * importance``.
    """

    query: str = Field(min_length=1, max_length=4_000)
    limit: int = Field(default=10, ge=1, le=100)
    include_memories: bool = True
    include_events: bool = False
    half_life_hours: float | None = Field(default=None, gt=0)
    importance_weight: float = Field(default=0.0, ge=0.0, le=10.0)
    vector_weight: float = Field(default=VECTOR_WEIGHT, ge=0.0, le=10.0)
    sender_boost: float = Field(default=SENDER_BOOST, ge=0.0, le=10.0)
    now: UtcDatetime | None = None
    decay_rules: list[DecayRule] = Field(default_factory=list, max_length=64)


class SearchHit(_Record):
    """One ranked search result.

    ``score``: fused reciprocal-rank score after decay and importance, higher is better.
    ``lexical_rank`` / ``vector_rank``: 1-based rank in each candidate list, ``None`` if absent there.
    Exactly one of ``memory`` / ``event`` is set, matching ``item_type``.
    """

    item_type: Literal["memory", "event"]
    item_id: str
    score: float
    lexical_rank: int | None = None
    vector_rank: int | None = None
    memory: Memory | None = None
    event: Event | None = None


# --- tasks -------------------------------------------------------------------------------------------


class NewTask(_Record):
    """A task to create. ``priority``: 0 (low) .. 3 (urgent), default 1 (normal)."""

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    priority: int = Field(default=1, ge=0, le=3)
    assignee: str | None = Field(default=None, max_length=128)
    room_id: str | None = Field(default=None, max_length=128)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_by: str | None = Field(default=None, max_length=128)


class TaskUpdate(_Record):
    """Fields to change on a task; ``None`` leaves a field as it is (use ``clear_assignee`` to unassign)."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    status: TaskStatus | None = None
    priority: int | None = Field(default=None, ge=0, le=3)
    assignee: str | None = Field(default=None, max_length=128)
    clear_assignee: bool = False
    metadata: dict[str, Any] | None = None


class TaskRecord(_Record):
    """A work item. ``version`` starts at 1 and grows by one on every change (optimistic concurrency)."""

    task_id: str
    title: str
    description: str
    status: TaskStatus
    priority: int
    assignee: str | None
    room_id: str | None
    metadata: dict[str, Any]
    created_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime


# --- escalations -------------------------------------------------------------------------------------


class HandoffPackage(_Record):
    """Everything a human needs to take over a room, frozen when the escalation was created.

    ``events``: the room's most recent events, oldest first. ``observations`` / ``decisions``: memories of
    those kinds linked to the room. ``open_tasks``: tasks of the room not done or cancelled. ``identity``:
    the customer (the room's participant with role ``customer``, else the newest event's sender).
    ``facts``: the live facts of the room's namespaces (the namespaces of memories linked to the room,
    plus the names listed under the room's ``namespaces`` metadata key; branch namespaces excluded),
    ordered by namespace then key, at most ``HANDOFF_FACT_LIMIT``.
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


class NewEscalation(_Record):
    """A hand-over of a room to a human queue or person."""

    room_id: Id
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


#: Most facts a handoff package holds (the first by namespace, key).
HANDOFF_FACT_LIMIT = 200

# Fact records build on the records above (``_Record``, ``Sensitivity``), so they are imported last.
from storage.models_facts import Fact  # noqa: E402

# The graph records use this module's ``Namespace`` and ``Sensitivity``; they are imported last so that
# ``HandoffPackage.customer_graph`` resolves without an import cycle.
from storage.models_graph import GraphTraversal  # noqa: E402

HandoffPackage.model_rebuild()
