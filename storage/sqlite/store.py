"""``SQLiteStore``: the ``MemoryStore`` contract on one SQLite file (WAL, FTS5, sqlite-vec).

Each method is one transaction run by ``Database`` in a worker thread: writes under ``BEGIN IMMEDIATE`` on
the single writer connection, reads on a pool of reader connections. The SQL lives in one module per area
(``rooms``, ``events``, ``identities``, ``memories``, ``search``, ``tasks``, ``escalations``); this class
only dispatches to them. Facts and namespace versioning come as mixins (``facts``, ``versions``). Guarantees are those documented on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import apsw

from storage.contracts.store import MemoryStore
from storage.errors import InvalidInputError
from storage.migrate import load_migrations
from storage.models import (
    AppendResult,
    AuditFilter,
    AuditRecord,
    ChannelBinding,
    ConversationState,
    Escalation,
    EscalationStatus,
    Event,
    Identity,
    Memory,
    MemoryFilter,
    NewAuditRecord,
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
    TaskRecord,
    TaskStatus,
    TaskUpdate,
    Visibility,
)
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit
from storage.scope import Scope
from storage.sqlite import audit, escalations, events, identities, memories, meta, rooms, search, tasks
from storage.sqlite.connection import Database
from storage.sqlite.coordination import AlertsMixin, GraphMixin, RetentionMixin
from storage.sqlite.facts import FactsMixin
from storage.sqlite.feed import DatagramFeedMixin
from storage.sqlite.reindex import ReindexMixin
from storage.sqlite.rows import fetch_one
from storage.sqlite.vector_log import VectorIndexMixin
from storage.sqlite.versions import VersionsMixin

__all__ = ["SQLiteStore", "parse_sqlite_url"]

#: Default wait for another process's write lock before ``BackendUnavailableError`` (seconds).
DEFAULT_BUSY_TIMEOUT_SECONDS = 30.0


def parse_sqlite_url(url: str) -> Path:
    """``sqlite:///relative/path.db`` -> ``relative/path.db``; ``sqlite:////abs/path.db`` -> ``/abs/path.db``.

    A query string (``?...``) is ignored.

    Raises:
        InvalidInputError: not a ``sqlite:///`` URL, no path, or ``:memory:`` (use a temporary file).
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise InvalidInputError(
            "a SQLite URL looks like sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    path = url[len(prefix) :].split("?", 1)[0]
    if not path or path.endswith("/"):
        raise InvalidInputError("the SQLite URL has no file name: use sqlite:///path/to/memory.db")
    if path == ":memory:":
        raise InvalidInputError("in-memory SQLite is not supported: use a temporary file")
    return Path(path)


def _int_or_none(value: str | None) -> int | None:
    return None if value is None else int(value)


def _schema_version(conn: apsw.Connection) -> int:
    row = fetch_one(conn, "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
    return 0 if row is None else int(row["v"])


def _journal_mode(conn: apsw.Connection) -> str:
    row = fetch_one(conn, "PRAGMA journal_mode")
    return "unknown" if row is None else str(row["journal_mode"])


class SQLiteStore(
    GraphMixin,
    AlertsMixin,
    RetentionMixin,
    FactsMixin,
    VersionsMixin,
    DatagramFeedMixin,
    ReindexMixin,
    VectorIndexMixin,
    MemoryStore,
):
    """The SQLite backend: one database file in WAL mode, one writer, a few readers.

    Open with ``await SQLiteStore.open(url)`` (or ``storage.open_store``); use as an async context manager
    or call ``close()``.
    """

    backend = "sqlite"

    def __init__(self, db: Database, embedding_dimensions: int | None) -> None:
        self._db = db
        self._dims = embedding_dimensions
        self._init_feed(db.path)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        embedding_dimensions: int | None = None,
        vector_index: bool = True,
        **_ignored: Any,
    ) -> SQLiteStore:
        """Open the file at ``url`` (creating it and its directory), switch to WAL, apply migrations.

        Args:
            url: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.
            busy_timeout_seconds: how long a write waits for another process's lock before failing.
            embedding_dimensions: expected embedding size until the store records one from a write.
            vector_index: keep the in-process ANN index (``storage.vector_index``), built in the background.
            **_ignored: options of other backends (``min_size``, ``max_size``, ``schema``...).

        Raises:
            InvalidInputError: bad URL or options; ``embedding_dimensions`` differs from the recorded size.
            SchemaVersionError: the database is newer than this code, or a migration failed.
            BackendUnavailableError: the file cannot be created or opened, or stayed locked.
        """
        path = parse_sqlite_url(url)
        if busy_timeout_seconds < 0:
            raise InvalidInputError("busy_timeout_seconds must be >= 0")
        if embedding_dimensions is not None and embedding_dimensions < 1:
            raise InvalidInputError("embedding_dimensions must be >= 1")
        db = Database(path, busy_timeout_seconds)
        await db.open(load_migrations("storage.sqlite"))
        store = cls(db, embedding_dimensions)
        recorded = await store.get_meta(meta.EMBEDDING_DIMENSIONS_KEY)
        if (
            embedding_dimensions is not None
            and recorded is not None
            and int(recorded) != embedding_dimensions
        ):
            await db.close()
            raise InvalidInputError(
                f"this store holds {recorded}-dimensional embeddings, but {embedding_dimensions} were "
                "configured: use the embedder the store was built with"
            )
        if vector_index:
            store._start_vector_index(path, busy_timeout_seconds)
        return store

    async def close(self) -> None:
        await self._stop_vector_index()
        await self._db.close()

    async def schema_version(self) -> int:
        return await self._db.read(_schema_version)

    async def describe(self) -> dict[str, Any]:
        """Backend, schema version, file path, journal mode, vector mode, embedding size, busy timeout."""
        facts = await super().describe()
        journal = await self._db.read(_journal_mode)
        recorded = _int_or_none(await self.get_meta(meta.EMBEDDING_DIMENSIONS_KEY))
        facts.update(
            path=str(self._db.path.resolve()),
            journal_mode=journal,
            vector_mode=search.VECTOR_MODE,
            embedding_dimensions=recorded or self._dims,
            busy_timeout_seconds=self._db.busy_timeout_seconds,
            change_feed="unix-datagram",
            vector_index=self._vector_index_facts(),
        )
        return facts

    # --- store metadata ------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        return await self._db.read(meta.get_meta, key)

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.write(meta.set_meta, key, value)

    # --- rooms ---------------------------------------------------------------------------------------

    async def create_room(self, room: NewRoom, *, scope: Scope | None = None) -> Room:
        return await self._db.write(rooms.create_room, room, scope)

    async def get_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        return await self._db.read(rooms.get_room, room_id, scope)

    async def list_rooms(
        self,
        *,
        status: RoomStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Room]:
        return await self._db.read(rooms.list_rooms, status, clamp_limit(limit), cursor, scope)

    async def update_room_metadata(self, room_id: str, metadata: dict[str, Any]) -> Room:
        return await self._db.write(rooms.update_room_metadata, room_id, metadata)

    async def close_room(self, room_id: str, *, scope: Scope | None = None) -> Room:
        return await self._db.write(rooms.close_room, room_id, scope)

    async def update_conversation_state(
        self,
        room_id: str,
        *,
        phase: str | None = None,
        active_agent: str | None = None,
        expected_version: int | None = None,
        scope: Scope | None = None,
    ) -> ConversationState:
        return await self._db.write(
            rooms.update_conversation_state, room_id, phase, active_agent, expected_version, scope
        )

    async def record_handoff(
        self,
        room_id: str,
        *,
        to_agent: str,
        by_agent: str,
        reason: str | None = None,
        scope: Scope | None = None,
    ) -> tuple[ConversationState, Event]:
        return await self._db.write(
            rooms.record_handoff, room_id, to_agent, by_agent, reason, self._dims, scope
        )

    # --- participants and channel bindings -----------------------------------------------------------

    async def add_participant(
        self, room_id: str, participant_id: str, *, kind: str = "agent", role: str | None = None
    ) -> Participant:
        return await self._db.write(rooms.add_participant, room_id, participant_id, kind, role)

    async def remove_participant(self, room_id: str, participant_id: str) -> Participant:
        return await self._db.write(rooms.remove_participant, room_id, participant_id)

    async def list_participants(self, room_id: str, *, include_left: bool = False) -> list[Participant]:
        return await self._db.read(rooms.list_participants, room_id, include_left)

    async def add_channel_binding(
        self, room_id: str, channel_id: str, channel_type: str, config: dict[str, Any] | None = None
    ) -> ChannelBinding:
        return await self._db.write(rooms.add_channel_binding, room_id, channel_id, channel_type, config)

    async def get_channel_binding(self, room_id: str, channel_id: str) -> ChannelBinding:
        return await self._db.read(rooms.get_channel_binding, room_id, channel_id)

    async def update_channel_binding(
        self, room_id: str, channel_id: str, config: dict[str, Any]
    ) -> ChannelBinding:
        return await self._db.write(rooms.update_channel_binding, room_id, channel_id, config)

    async def remove_channel_binding(self, room_id: str, channel_id: str) -> None:
        await self._db.write(rooms.remove_channel_binding, room_id, channel_id)

    async def list_channel_bindings(self, room_id: str) -> list[ChannelBinding]:
        return await self._db.read(rooms.list_channel_bindings, room_id)

    # --- events --------------------------------------------------------------------------------------

    async def append_event(
        self, event: NewEvent, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> AppendResult:
        return await self._db.write(events.append_event, event, embedding, self._dims, scope)

    async def get_event(self, event_id: str, *, scope: Scope | None = None) -> Event:
        return await self._db.read(events.get_event, event_id, scope)

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
        def run(conn: apsw.Connection) -> list[Event]:
            return events.list_events(
                conn,
                room_id,
                limit=limit,
                after_index=after_index,
                before_index=before_index,
                visibility=visibility,
                types=types,
                scope=scope,
            )

        return await self._db.read(run)

    # --- identities ----------------------------------------------------------------------------------

    async def resolve_identity(
        self, channel_type: str, address: str, *, display_name: str | None = None
    ) -> tuple[Identity, bool]:
        return await self._db.write(identities.resolve_identity, channel_type, address, display_name)

    async def link_address(self, identity_id: str, channel_type: str, address: str) -> Identity:
        return await self._db.write(identities.link_address, identity_id, channel_type, address)

    async def unlink_address(self, channel_type: str, address: str) -> Identity:
        return await self._db.write(identities.unlink_address, channel_type, address)

    async def get_identity(self, identity_id: str) -> Identity:
        return await self._db.read(identities.get_identity, identity_id)

    async def find_identity(self, channel_type: str, address: str) -> Identity:
        return await self._db.read(identities.find_identity, channel_type, address)

    # --- memories ------------------------------------------------------------------------------------

    async def add_memory(
        self, memory: NewMemory, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> Memory:
        return await self._db.write(memories.add_memory, memory, embedding, scope, self._dims)

    async def get_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        return await self._db.read(memories.get_memory, memory_id, scope)

    async def delete_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        return await self._db.write(memories.delete_memory, memory_id, scope)

    async def list_memories(
        self,
        filters: MemoryFilter,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Memory]:
        return await self._db.read(memories.list_memories, filters, clamp_limit(limit), cursor, scope)

    async def search(
        self,
        request: SearchRequest,
        query_embedding: Sequence[float] | None = None,
        *,
        scope: Scope | None = None,
    ) -> list[SearchHit]:
        return await self._db.read(search.search, request, query_embedding, scope, self._dims)

    # --- tasks ---------------------------------------------------------------------------------------

    async def create_task(self, task: NewTask) -> TaskRecord:
        return await self._db.write(tasks.create_task, task)

    async def get_task(self, task_id: str) -> TaskRecord:
        return await self._db.read(tasks.get_task, task_id)

    async def list_tasks(
        self,
        *,
        status: Sequence[TaskStatus] | None = None,
        assignee: str | None = None,
        room_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[TaskRecord]:
        return await self._db.read(tasks.list_tasks, status, assignee, room_id, clamp_limit(limit), cursor)

    async def update_task(self, task_id: str, update: TaskUpdate, *, expected_version: int) -> TaskRecord:
        return await self._db.write(tasks.update_task, task_id, update, expected_version)

    async def claim_task(
        self, task_id: str, agent: str, *, expected_version: int | None = None
    ) -> TaskRecord:
        return await self._db.write(tasks.claim_task, task_id, agent, expected_version)

    # --- audit log -----------------------------------------------------------------------------------

    async def append_audit(self, record: NewAuditRecord) -> AuditRecord:
        return await self._db.write(audit.append_audit, record)

    async def list_audit(
        self, filters: AuditFilter, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[AuditRecord]:
        return await self._db.read(audit.list_audit, filters, clamp_limit(limit), cursor)

    # --- escalations ---------------------------------------------------------------------------------

    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        return await self._db.write(escalations.create_escalation, escalation, event_limit)

    async def get_escalation(self, escalation_id: str, *, scope: Scope | None = None) -> Escalation:
        return await self._db.read(escalations.get_escalation, escalation_id, scope)

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
        return await self._db.read(
            escalations.list_escalations, status, room_id, queue, clamp_limit(limit), cursor, scope
        )

    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        return await self._db.write(escalations.acknowledge_escalation, escalation_id, by)

    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        return await self._db.write(escalations.resolve_escalation, escalation_id, by, resolution)
