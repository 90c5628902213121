"""``PostgresStore``: the production ``MemoryStore`` on PostgreSQL through an asyncpg pool.

Many server processes on many machines share one database: every guarantee of the contract is enforced
by the database (row locks, unique constraints, compare-and-set updates), never by process memory.
The per-area methods live in mixins (``rooms``, ``participants``, ``events``, ``identities``,
``memories``, ``search``, ``tasks``, ``escalations``, ``facts``, ``versions``); this module opens, migrates,
describes and closes.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from storage.contracts.changes import TopicListener, check_topics
from storage.errors import BackendUnavailableError
from storage.postgres.alerts import AlertsMixin
from storage.postgres.audit import AuditMixin
from storage.postgres.errors import map_driver_errors
from storage.postgres.escalations import PostgresEscalations
from storage.postgres.events import PostgresEvents
from storage.postgres.graph import GraphMixin
from storage.postgres.identities import PostgresIdentities
from storage.postgres.memories import PostgresMemories
from storage.postgres.notify import ChangeSubscription, follow_topics, publish_topics
from storage.postgres.participants import PostgresParticipants
from storage.postgres.pool import create_pool, search_path, validate_schema
from storage.postgres.reindex import PostgresReindex
from storage.postgres.retention import PostgresRetention
from storage.postgres.rooms import PostgresRooms
from storage.postgres.schema import applied_version, apply_migrations
from storage.postgres.search import PostgresSearch
from storage.postgres.tasks import PostgresTasks
from storage.postgres.vector_log import VectorIndexMixin
from storage.postgres.vectors import VectorSupport, detect_vector_support, ensure_hnsw_index
from storage.postgres.versions import VersionsMixin

__all__ = ["PostgresStore", "migrate"]

logger = logging.getLogger("storage.postgres")


class PostgresStore(
    PostgresRetention,
    VersionsMixin,
    PostgresRooms,
    PostgresParticipants,
    PostgresEvents,
    PostgresIdentities,
    PostgresMemories,
    PostgresSearch,
    PostgresTasks,
    PostgresEscalations,
    GraphMixin,
    AlertsMixin,
    AuditMixin,
    PostgresReindex,
    VectorIndexMixin,
):
    """A ``MemoryStore`` on PostgreSQL (JSONB + GIN, tsvector full text, pgvector HNSW when present).

    Open with ``await PostgresStore.open(url)``; the store is migrated and ready. Close with ``close()``
    or ``async with``. Changes committed by any process can be followed with ``subscribe_changes()``.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        dsn: str,
        schema: str | None,
        vectors: VectorSupport,
        dimensions: int | None,
        min_size: int,
        max_size: int,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._schema = schema
        self._vectors = vectors
        self._dimensions = dimensions
        self._min_size = min_size
        self._max_size = max_size
        self._closed = False
        #: Identifies this instance's change topics, so its own followers skip them.
        self._origin = secrets.token_hex(8)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        schema: str | None = None,
        embedding_dimensions: int | None = None,
        vector_index: bool = True,
        **_ignored: Any,
    ) -> PostgresStore:
        """Connect, apply pending migrations, detect pgvector, and return a ready store.

        Args:
            url: ``postgresql://user@host:port/db`` (or ``postgres://``); never logged.
            min_size, max_size: connection pool bounds.
            schema: schema holding the tables (created when missing); ``None`` uses ``public``.
            embedding_dimensions: float32 values per embedding; recorded on first use when omitted.
            vector_index: without pgvector, keep the in-process ANN index (``storage.vector_index``).
            **_ignored: options of other backends (e.g. ``busy_timeout_seconds``).

        Raises:
            InvalidInputError: bad schema name, or ``embedding_dimensions`` differs from the recorded size.
            SchemaVersionError: the database is newer than this code, or a migration failed.
            BackendUnavailableError: the database cannot be reached.
        """
        schema = validate_schema(schema)
        if min_size < 1 or max_size < min_size:
            min_size, max_size = max(1, min_size), max(max_size, max(1, min_size))
        with map_driver_errors():
            conn = await asyncpg.connect(
                url, server_settings={"search_path": search_path(schema)}, timeout=10
            )
            try:
                await apply_migrations(conn, schema)
                vectors = await detect_vector_support(conn, schema)
            finally:
                await conn.close()
            extra = (vectors.extension_schema,) if vectors.extension_schema else ()
            pool = await create_pool(
                url, min_size=min_size, max_size=max_size, schema=schema, extra_schemas=extra
            )
        store = cls(
            pool,
            dsn=url,
            schema=schema,
            vectors=vectors,
            dimensions=None,
            min_size=min_size,
            max_size=max_size,
        )
        try:
            if embedding_dimensions is not None:
                await store._ensure_dimensions(int(embedding_dimensions))
            else:
                async with store._connection() as c:
                    known = await store._load_dimensions(c)
                    if known is not None and vectors.mode == "pgvector-hnsw":
                        await ensure_hnsw_index(c, schema, known)
        except BaseException:
            await store.close()
            raise
        if vector_index and vectors.mode == "exact-fallback":
            store._start_vector_index(url, schema)
        logger.info("opened PostgreSQL store (schema %s, vector mode %s)", schema or "public", vectors.mode)
        return store

    async def close(self) -> None:
        """Close the pool (idempotent); waits for connections in use to be released."""
        if self._closed:
            return
        self._closed = True
        await self._stop_vector_index()
        with map_driver_errors():
            await self._pool.close()

    async def schema_version(self) -> int:
        """The newest migration applied to this schema."""
        if self._closed:
            raise BackendUnavailableError("the store is closed: open it again")
        async with self._connection() as conn:
            return await applied_version(conn)

    async def describe(self) -> dict[str, Any]:
        """Facts for operators: backend, schema version and name, pool, server version, vector mode.

        Returns keys ``backend``, ``schema_version``, ``schema``, ``server_version``, ``pool_min_size``,
        ``pool_max_size``, ``pool_size`` (open connections), ``pool_idle``, ``vector_mode``
        (``pgvector-hnsw`` | ``exact-fallback``), ``pgvector_available``, ``pgvector_version``,
        ``hnsw_iterative_scan``, ``embedding_dimensions``.
        """
        async with self._connection() as conn:
            version = await applied_version(conn)
            server = await conn.fetchval("SHOW server_version")
            dims = await self._load_dimensions(conn)
        return {
            "backend": self.backend,
            "schema_version": version,
            "schema": self._schema_name,
            "server_version": str(server),
            "pool_min_size": self._min_size,
            "pool_max_size": self._max_size,
            "pool_size": self._pool.get_size(),
            "pool_idle": self._pool.get_idle_size(),
            "vector_mode": self._vectors.mode,
            "pgvector_available": self._vectors.pgvector_version is not None,
            "pgvector_version": self._vectors.pgvector_version,
            "hnsw_iterative_scan": self._vectors.iterative_scan,
            "embedding_dimensions": dims,
            "change_feed": "listen-notify",
            "vector_index": self._vector_index_facts(),
        }

    def subscribe_changes(self) -> ChangeSubscription:
        """Follow committed changes of this store's schema made by any process (LISTEN/NOTIFY).

        Usage::

            async with store.subscribe_changes() as changes:
                notice = await changes.get()  # ChangeNotice(kind="event", id="evt_…", room_id="room_…")

        Listening starts when the block is entered, on a dedicated connection (not from the pool).
        Kinds: ``room``, ``event``, ``task``, ``escalation``, ``memory``, ``fact`` (id ``namespace/key``).
        """
        return ChangeSubscription(self._dsn, self._schema_name, {"timeout": 10})

    async def publish_changes(self, topics: Sequence[str]) -> None:
        """Send ``topics`` to the followers of other store instances on this schema (``NOTIFY``).

        Raises:
            InvalidInputError: a topic is empty or too long.
            BackendUnavailableError: the database cannot be reached.
        """
        check_topics(topics)
        if topics:
            async with self._connection() as conn:
                await publish_topics(conn, self._schema_name, self._origin, topics)

    def follow_changes(self, listener: TopicListener) -> AbstractAsyncContextManager[bool]:
        """Call ``listener(topic)`` for topics other store instances publish (``LISTEN``; yields ``True``)."""
        return follow_topics(self._dsn, self._schema_name, self._origin, listener, {"timeout": 10})


async def migrate(url: str, *, schema: str | None = None) -> int:
    """Apply pending migrations to the database at ``url`` and return its schema version.

    For ``mcp-memory migrate``; safe to run while servers are running or starting (advisory lock).

    Raises:
        SchemaVersionError: the database is newer than this code, or a migration failed.
        BackendUnavailableError: the database cannot be reached.
    """
    store = await PostgresStore.open(url, min_size=1, max_size=1, schema=schema)
    try:
        return await store.schema_version()
    finally:
        await store.close()
