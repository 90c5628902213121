"""The storage contract: ``MemoryStore`` (async, abstract) and ``Scope`` (what a caller may see).

Every backend (``storage.sqlite``, ``storage.postgres``) implements ``MemoryStore`` and passes the same
contract suite (``tests/storage/contract``). Guarantees below use MUST / SHOULD (RFC 2119).

General guarantees of every method:

- Each write MUST be one transaction: it is durable (committed) before the method returns, and on any
  error nothing of it is visible.
- Driver exceptions MUST NOT escape: backends raise only ``storage.errors`` types.
- Methods MUST NOT block the event loop (file or socket I/O happens off the loop or through an async
  driver).
- Reads that return many items are bounded by ``limit`` and paginated by an opaque cursor.
- Items outside the caller's ``Scope`` MUST be filtered inside the query (never after a top-k cut), so a
  search never returns, counts or ranks them; a read of one such item raises ``NotFoundError``.
- Rooms live in a namespace (``Room.namespace``) under the same rules as memories: a room, its events,
  its conversation state and its escalations are visible only when the scope reads the room's
  namespace (and events only up to the scope's clearance); appending, handing off, changing the state
  or closing needs the namespace to be writable, else ``PermissionDeniedError`` and nothing changes.
  ``scope=None`` means unrestricted (operators, migrations, the store used as a library).
"""

from __future__ import annotations

import abc
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.alerts_contract import AlertStore
from storage.audit_contract import AuditStore
from storage.changes_contract import ChangeFeedStore
from storage.errors import InvalidInputError
from storage.facts_contract import FactStore
from storage.graph_contract import GraphStore
from storage.models import (
    AppendResult,
    ChannelBinding,
    ConversationState,
    Escalation,
    EscalationStatus,
    Event,
    Identity,
    Memory,
    MemoryFilter,
    NewEscalation,
    NewEvent,
    NewMemory,
    NewRoom,
    NewTask,
    Page,
    Participant,
    Room,
    RoomStatus,
    SearchHit,
    SearchRequest,
    Sensitivity,
    TaskRecord,
    TaskStatus,
    TaskUpdate,
    Visibility,
)
from storage.patterns import namespace_matches
from storage.reindex_contract import ReindexStore
from storage.retention_contract import RetentionStore
from storage.versions_contract import VersionStore

__all__ = ["MemoryStore", "Scope", "decode_cursor", "encode_cursor", "namespace_matches"]

#: Default and maximum page sizes of list methods.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Scope:
    """What one caller (an agent) may read and write; built by the service, applied by the store in SQL.

    Attributes:
        agent: the principal's name, recorded as author/actor.
        read_namespaces: namespace patterns the caller may read; ``*`` matches any run of characters
            (``shared-*``). ``("*",)`` means every namespace.
        write_namespaces: namespace patterns the caller may write.
        max_sensitivity: clearance; items above it are invisible to the caller.
    """

    agent: str
    read_namespaces: tuple[str, ...] = ("*",)
    write_namespaces: tuple[str, ...] = ("*",)
    max_sensitivity: Sensitivity = Sensitivity.CONFIDENTIAL
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def unrestricted(cls, agent: str = "system") -> Scope:
        """A scope that reads and writes everything (operators, migrations, tests)."""
        return cls(agent=agent)

    def can_write(self, namespace: str) -> bool:
        """True when ``namespace`` matches one of ``write_namespaces``."""
        return any(namespace_matches(p, namespace) for p in self.write_namespaces)

    def can_read(self, namespace: str) -> bool:
        """True when ``namespace`` matches one of ``read_namespaces``."""
        return any(namespace_matches(p, namespace) for p in self.read_namespaces)

    def readable_sensitivities(self) -> list[Sensitivity]:
        """The sensitivities this scope may read, lowest first."""
        return Sensitivity.at_most(self.max_sensitivity)


def encode_cursor(*key: Any) -> str:
    """Encode a sort key (e.g. ``(created_at_iso, id)``) as an opaque URL-safe cursor string."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """Decode a cursor made by ``encode_cursor``.

    Raises:
        InvalidInputError: the cursor is not one this store made (tampered, truncated, wrong listing).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            "cursor is not valid: pass back the next_cursor of the previous page"
        ) from exc
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidInputError("cursor is not valid: pass back the next_cursor of the previous page")
    return key


class MemoryStore(
    GraphStore,
    AlertStore,
    RetentionStore,
    FactStore,
    VersionStore,
    ChangeFeedStore,
    AuditStore,
    ReindexStore,
    abc.ABC,
):
    """Async storage contract of mcp-memory.

    Use as an async context manager or call ``close()``; ``storage.open_store(url)`` returns an opened,
    migrated store. Every method may raise ``BackendUnavailableError``.
    """

    #: Short backend name (``sqlite``, ``postgres``).
    backend: str = "abstract"

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections. Idempotent. Writes already returned are durable."""

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """Return the number of the newest migration applied to this database."""

    async def describe(self) -> dict[str, Any]:
        """Return facts for operators (``mcp-memory doctor``): backend, schema version, vector mode...

        Backends SHOULD extend this with what they know (file path, pool size, pgvector presence).
        """
        return {"backend": self.backend, "schema_version": await self.schema_version()}

    # --- store metadata ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def get_meta(self, key: str) -> str | None:
        """Return a store-level setting (e.g. ``embedding_model``), or ``None`` when unset."""

    @abc.abstractmethod
    async def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting (upsert)."""

    # --- rooms ---------------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_room(self, room: NewRoom, *, scope: Scope | None = None) -> Room:
        """Create a room (status open, empty state, ``last_event_index`` 0) in ``room.namespace``.

        Raises:
            PermissionDeniedError: the namespace is not writable in ``scope``.
            ConflictError: ``room.room_id`` is taken.
        """

    @abc.abstractmethod
    async def get_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        """Return a room. Raises: NotFoundError (also when its namespace is not readable in ``scope``)."""

    @abc.abstractmethod
    async def list_rooms(
        self,
        *,
        status: RoomStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Room]:
        """List rooms readable in ``scope``, newest first (by ``created_at`` then id).

        Raises:
            InvalidInputError: bad cursor.
        """

    @abc.abstractmethod
    async def update_room_metadata(self, room_id: str, metadata: dict[str, Any]) -> Room:
        """Merge ``metadata`` into the room's metadata (keys set to ``None`` are removed).

        Raises:
            NotFoundError: no such room.
        """

    @abc.abstractmethod
    async def close_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        """Close a room (idempotent); closed rooms refuse new events.

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
        """

    @abc.abstractmethod
    async def update_conversation_state(
        self,
        room_id: str,
        *,
        phase: str | None = None,
        active_agent: str | None = None,
        expected_version: int | None = None,
        scope: Scope | None = None,
    ) -> ConversationState:
        """Set the phase and/or active agent of a room's conversation state (``None`` leaves a field).

        The state's version grows by one. With ``expected_version``, a stale version changes nothing.

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
            ConflictError: ``expected_version`` differs from the current version (carries it).
        """

    @abc.abstractmethod
    async def record_handoff(
        self,
        room_id: str,
        *,
        to_agent: str,
        by_agent: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> tuple[ConversationState, Event]:
        """Hand the room to ``to_agent`` in one transaction.

        Sets the active agent, increments ``handoff_count`` and the state version, and appends an event of
        type ``handoff`` (visibility ``agents``, metadata ``{"from_agent", "to_agent", "reason"}``).

        Raises:
            NotFoundError: no such room readable in ``scope``.
            PermissionDeniedError: its namespace is not writable in ``scope``.
            ConflictError: the room is closed.
        """

    # --- participants and channel bindings -----------------------------------------------------------

    @abc.abstractmethod
    async def add_participant(
        self, room_id: str, participant_id: str, *, kind: str = "agent", role: str | None = None
    ) -> Participant:
        """Add someone to a room, or re-join them (clears ``left_at``, updates role). Idempotent.

        Raises:
            NotFoundError: no such room.
        """

    @abc.abstractmethod
    async def remove_participant(self, room_id: str, participant_id: str) -> Participant:
        """Mark a participant as having left (sets ``left_at``). Raises: NotFoundError."""

    @abc.abstractmethod
    async def list_participants(self, room_id: str, *, include_left: bool = False) -> list[Participant]:
        """List a room's participants in order of joining. Raises: NotFoundError (no such room)."""

    @abc.abstractmethod
    async def add_channel_binding(
        self, room_id: str, channel_id: str, channel_type: str, config: dict[str, Any] | None = None
    ) -> ChannelBinding:
        """Attach a channel to a room.

        Raises:
            NotFoundError: no such room.
            ConflictError: the channel is already bound to this room.
        """

    @abc.abstractmethod
    async def get_channel_binding(self, room_id: str, channel_id: str) -> ChannelBinding:
        """Return one binding. Raises: NotFoundError."""

    @abc.abstractmethod
    async def update_channel_binding(
        self, room_id: str, channel_id: str, config: dict[str, Any]
    ) -> ChannelBinding:
        """Replace a binding's config. Raises: NotFoundError."""

    @abc.abstractmethod
    async def remove_channel_binding(self, room_id: str, channel_id: str) -> None:
        """Detach a channel from a room. Raises: NotFoundError."""

    @abc.abstractmethod
    async def list_channel_bindings(self, room_id: str) -> list[ChannelBinding]:
        """List a room's bindings, oldest first. Raises: NotFoundError (no such room)."""

    # --- events --------------------------------------------------------------------------------------

    @abc.abstractmethod
    async def append_event(
        self, event: NewEvent, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> AppendResult:
        """Append an event to a room's timeline.

        The new event's ``index`` is the room's ``last_event_index + 1``: indexes MUST stay monotonic and
        gapless under any number of concurrent writers (threads, processes, machines). With an
        ``idempotency_key`` already used in this room, the first event is returned with ``created=False``
        and nothing is written. ``embedding`` (float32[dimensions], L2-normalised) makes the event
        searchable by meaning. With a ``scope``, the room must be readable (else ``NotFoundError``) and
        writable, and the event's sensitivity within its clearance (else ``PermissionDeniedError``),
        checked before the idempotency key so a denied writer learns nothing of earlier events.

        Raises:
            NotFoundError: no such room (readable in ``scope``).
            PermissionDeniedError: the room's namespace is not writable, or the sensitivity is above the
                clearance of ``scope``.
            ConflictError: the room is closed.
            InvalidInputError: the embedding's size differs from the store's.
        """

    @abc.abstractmethod
    async def get_event(self, event_id: str, *, scope: Scope | None = None) -> Event:
        """Return one event. Raises: NotFoundError (also when above the scope's clearance or in a room
        whose namespace the scope does not read)."""

    @abc.abstractmethod
    async def list_events(
        self,
        room_id: str,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        after_index: int | None = None,
        before_index: int | None = None,
        visibility: Sequence[Visibility] | None = None,
        types: Sequence[str] | None = None,
        scope: Scope | None = None,
    ) -> list[Event]:
        """List a room's events in ascending ``index`` order.

        ``after_index`` returns the first ``limit`` events after it; ``before_index`` alone returns the
        ``limit`` events just before it (still ascending); neither returns the first ``limit`` events.
        ``visibility`` and ``types`` keep only matching events; the scope drops events above its clearance.

        Raises:
            NotFoundError: no such room, or its namespace is not readable in ``scope``.
        """

    # --- identities ----------------------------------------------------------------------------------

    @abc.abstractmethod
    async def resolve_identity(
        self, channel_type: str, address: str, *, display_name: str | None = None
    ) -> tuple[Identity, bool]:
        """Return the identity owning ``(channel_type, address)``, creating it (and the address) if none.

        Returns ``(identity, created)``. Concurrent calls for one new address MUST create one identity.
        Addresses are compared exactly after the service's normalisation (lowercase emails, E.164 phones).
        """

    @abc.abstractmethod
    async def link_address(self, identity_id: str, channel_type: str, address: str) -> Identity:
        """Attach an address to an identity (idempotent when it is already theirs).

        Raises:
            NotFoundError: no such identity.
            ConflictError: the address belongs to another identity (unlink it first).
        """

    @abc.abstractmethod
    async def unlink_address(self, channel_type: str, address: str) -> Identity:
        """Detach an address from its identity and return that identity. Raises: NotFoundError."""

    @abc.abstractmethod
    async def get_identity(self, identity_id: str) -> Identity:
        """Return an identity with all its addresses. Raises: NotFoundError."""

    @abc.abstractmethod
    async def find_identity(self, channel_type: str, address: str) -> Identity:
        """Return the identity owning an address, without creating one. Raises: NotFoundError."""

    # --- memories ------------------------------------------------------------------------------------

    @abc.abstractmethod
    async def add_memory(
        self, memory: NewMemory, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> Memory:
        """Store a memory (and its embedding: float32[dimensions], L2-normalised).

        The addition MUST be appended to the namespace's change log in the same transaction
        (``VersionStore``).

        Raises:
            PermissionDeniedError: the namespace is not writable in ``scope``, or the sensitivity is above
                its clearance.
            InvalidInputError: the embedding's size differs from the store's.
        """

    @abc.abstractmethod
    async def get_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        """Return a memory. Raises: NotFoundError (also when outside the scope)."""

    @abc.abstractmethod
    async def delete_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        """Delete a memory (and its search entries) and return what was deleted.

        The deletion MUST be appended to the namespace's change log in the same transaction, with the
        memory's record and embedding, so a rollback can restore it (``VersionStore``).

        Raises:
            NotFoundError: no such memory visible in the scope.
            PermissionDeniedError: visible but its namespace is not writable in the scope.
        """

    @abc.abstractmethod
    async def list_memories(
        self,
        filters: MemoryFilter,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Memory]:
        """List memories matching ``filters`` inside the scope, newest first. Raises: InvalidInputError."""

    @abc.abstractmethod
    async def search(
        self,
        request: SearchRequest,
        query_embedding: Sequence[float] | None = None,
        *,
        scope: Scope | None = None,
    ) -> list[SearchHit]:
        """Hybrid search over memories (and events when ``request.include_events``).

        Two candidate lists are taken inside the database, each with every filter and the scope applied
        in its WHERE clause: lexical (BM25 over the text) and, when ``query_embedding`` is given, vector
        (cosine distance, exact unless an index is configured). They are fused with reciprocal rank
        fusion (``storage.ranking.fuse``: score = sum 1 / (60 + rank), Cormack et al. 2009), then
        weighted by recency and importance as the request asks. Ties break by item id, so the same data
        gives the same order on every backend.

        Returns at most ``request.limit`` hits, best first.

        Raises:
            InvalidInputError: the embedding's size differs from the store's.
        """

    # --- tasks ---------------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_task(self, task: NewTask) -> TaskRecord:
        """Create a task (status ``open``, or ``claimed`` when an assignee is given; version 1)."""

    @abc.abstractmethod
    async def get_task(self, task_id: str) -> TaskRecord:
        """Return a task. Raises: NotFoundError."""

    @abc.abstractmethod
    async def list_tasks(
        self,
        *,
        status: Sequence[TaskStatus] | None = None,
        assignee: str | None = None,
        room_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[TaskRecord]:
        """List tasks, highest priority first, then oldest first. Raises: InvalidInputError (bad cursor)."""

    @abc.abstractmethod
    async def update_task(self, task_id: str, update: TaskUpdate, *, expected_version: int) -> TaskRecord:
        """Apply ``update`` if the task is still at ``expected_version``; the version grows by one.

        Raises:
            NotFoundError: no such task.
            ConflictError: the task is at another version (``current_version`` and ``current`` carry it).
        """

    @abc.abstractmethod
    async def claim_task(
        self, task_id: str, agent: str, *, expected_version: int | None = None
    ) -> TaskRecord:
        """Atomically assign an open, unassigned task to ``agent`` (status ``claimed``).

        A compare-and-set: of any number of concurrent claims exactly one wins. Claiming a task the same
        agent already holds returns it unchanged.

        Raises:
            NotFoundError: no such task.
            ConflictError: claimed by someone else, not open, or not at ``expected_version``.
        """

    # --- escalations ---------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        """Escalate a room to a human, freezing its handoff package in the same transaction.

        The package holds the room, its last ``event_limit`` events, its observation and decision
        memories, its open tasks and the customer's identity (see ``HandoffPackage``).

        Raises:
            NotFoundError: no such room.
        """

    @abc.abstractmethod
    async def get_escalation(self, escalation_id: str, *, scope: Scope | None = None) -> Escalation:
        """Return an escalation with its handoff package.

        Raises:
            NotFoundError: no such escalation, or its room's namespace is not readable in ``scope``.
        """

    @abc.abstractmethod
    async def list_escalations(
        self,
        *,
        status: Sequence[EscalationStatus] | None = None,
        room_id: str | None = None,
        queue: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Escalation]:
        """List escalations of rooms readable in ``scope``, newest first. Raises: InvalidInputError."""

    @abc.abstractmethod
    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        """Move an open escalation to ``acknowledged``.

        Raises:
            NotFoundError: no such escalation.
            ConflictError: it is not open.
        """

    @abc.abstractmethod
    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        """Resolve an open or acknowledged escalation.

        Raises:
            NotFoundError: no such escalation.
            ConflictError: it is already resolved.
        """


def clamp_limit(limit: int) -> int:
    """Bound a page size to ``1..MAX_PAGE_SIZE``."""
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def isoformat(value: datetime) -> str:
    """Fixed-width, sortable UTC text form of a timestamp (``2026-11-22T10:00:00.000000+00:00``)."""
    return value.isoformat(timespec="microseconds")
