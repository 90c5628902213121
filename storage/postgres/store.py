"""``PostgresStore``: the production ``MemoryStore`` on PostgreSQL through an asyncpg pool.

Many server processes on many machines share one database: every guarantee of the contract is enforced
by the database (row locks, unique constraints, compare-and-set updates), never by process memory.
The store is its area mixins composed (``PostgresFacts``, ``PostgresGraph``... each in the module of its
area, all on ``PostgresCore``); this module opens, migrates, describes and closes.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from pydantic import ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass

from storage.errors import BackendUnavailableError
from storage.postgres.alerts import PostgresAlerts
from storage.postgres.audit import PostgresAudit
from storage.postgres.errors import map_driver_errors
from storage.postgres.escalations import PostgresEscalations
from storage.postgres.events import PostgresEvents
from storage.postgres.facts import PostgresFacts
from storage.postgres.graph import PostgresGraph
from storage.postgres.identities import PostgresIdentities
from storage.postgres.memories import PostgresMemories
from storage.postgres.meta import PostgresMeta
from storage.postgres.notify import PostgresNotify
from storage.postgres.participants import PostgresParticipants
from storage.postgres.pool import create_pool, search_path, validate_schema
from storage.postgres.portability import PostgresPortability
from storage.postgres.reindex import PostgresReindex
from storage.postgres.retention import PostgresRetention
from storage.postgres.rooms import PostgresRooms
from storage.postgres.schema import applied_version, apply_migrations
from storage.postgres.search import PostgresSearch
from storage.postgres.sessions import PostgresSessions
from storage.postgres.tasks import PostgresTasks
from storage.postgres.vector_log import VectorIndexMixin
from storage.postgres.vectors import detect_vector_support, ensure_hnsw_index
from storage.postgres.versions import PostgresVersions

__all__ = ["PostgresOptions", "PostgresStore", "migrate"]

logger = logging.getLogger("storage.postgres")


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class PostgresOptions:
    """Options of ``PostgresStore.open`` (``open_store(url, **options)`` refuses any other name).

    Attributes:
        min_size, max_size: connection pool bounds (1 <= min_size <= max_size).
        schema: schema holding the tables, created when missing (1-63 lowercase letters, digits and
            ``_``); ``None`` uses ``public``.
        embedding_dimensions: float32 values per embedding (1..16000); recorded on first use when omitted.
        vector_index: without pgvector, keep the in-process ANN index (``storage.vector_index``).
    """

    min_size: int = Field(default=1, ge=1)
    max_size: int = Field(default=10, ge=1)
    schema: str | None = None
    embedding_dimensions: int | None = Field(default=None, ge=1, le=16_000)
    vector_index: bool = True

    @model_validator(mode="after")
    def _pool_bounds(self) -> PostgresOptions:
        if self.max_size < self.min_size:
            raise ValueError(f"max_size ({self.max_size}) must not be below min_size ({self.min_size})")
        validate_schema(self.schema)
        return self


class PostgresStore(
    PostgresMeta,
    PostgresFacts,
    PostgresVersions,
    PostgresGraph,
    PostgresAlerts,
    PostgresAudit,
    PostgresRooms,
    PostgresParticipants,
    PostgresEvents,
    PostgresIdentities,
    PostgresTasks,
    PostgresEscalations,
    PostgresRetention,
    PostgresMemories,
    PostgresSessions,
    PostgresSearch,
    PostgresReindex,
    PostgresNotify,
    PostgresPortability,
    VectorIndexMixin,
):
    """A ``MemoryStore`` on PostgreSQL (JSONB + GIN, tsvector full text, pgvector HNSW when present).

    Open with ``await PostgresStore.open(url)``; the store is migrated and ready. Close with ``close()``
    or ``async with``.
    """

    @classmethod
    async def open(cls, url: str, options: PostgresOptions | None = None) -> PostgresStore:
        """Connect, apply pending migrations, detect pgvector, and return a ready store.

        Args:
            url: ``postgresql://user@host:port/db`` (or ``postgres://``); never logged.
            options: pool bounds, schema and embedding size (defaults: ``PostgresOptions()``).

        Raises:
            InvalidInputError: ``embedding_dimensions`` differs from the recorded size.
            SchemaVersionError: the database is newer than this code, or a migration failed.
            BackendUnavailableError: the database cannot be reached.
        """
        options = options or PostgresOptions()
        schema = options.schema
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
                url,
                min_size=options.min_size,
                max_size=options.max_size,
                schema=schema,
                extra_schemas=extra,
            )
        store = cls(
            pool,
            dsn=url,
            schema=schema,
            vectors=vectors,
            min_size=options.min_size,
            max_size=options.max_size,
        )
        try:
            if options.embedding_dimensions is not None:
                await store._ensure_dimensions(options.embedding_dimensions)
            else:
                async with store._connection() as c:
                    known = await store._load_dimensions(c)
                    if known is not None and vectors.mode == "pgvector-hnsw":
                        await ensure_hnsw_index(c, schema, known)
        except BaseException:
            await store.close()
            raise
        if options.vector_index and vectors.mode == "exact-fallback":
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
        ``hnsw_iterative_scan``, ``embedding_dimensions``, ``change_feed``.
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


async def migrate(url: str, *, schema: str | None = None) -> int:
    """Apply pending migrations to the database at ``url`` and return its schema version.

    For ``mcp-memory migrate``; safe to run while servers are running or starting (advisory lock).

    Raises:
        InvalidInputError: bad schema name.
        SchemaVersionError: the database is newer than this code, or a migration failed.
        BackendUnavailableError: the database cannot be reached.
    """
    store = await PostgresStore.open(url, PostgresOptions(min_size=1, max_size=1, schema=schema))
    try:
        return await store.schema_version()
    finally:
        await store.close()
