"""``SQLiteStore``: the ``MemoryStore`` contract on one SQLite file (WAL, FTS5, sqlite-vec).

The store is its area mixins composed (``SQLiteFacts``, ``SQLiteGraph``... each in the module of its
area, all on ``SQLiteCore``); this module opens, describes and closes. Each method is one transaction run
by ``Database`` in a worker thread: writes under ``BEGIN IMMEDIATE`` on the single writer connection,
reads on a pool of reader connections. Guarantees are those documented on
``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import apsw
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from storage.errors import InvalidInputError
from storage.migrate import load_migrations
from storage.sqlite.alerts import SQLiteAlerts
from storage.sqlite.audit import SQLiteAudit
from storage.sqlite.connection import Database
from storage.sqlite.escalations import SQLiteEscalations
from storage.sqlite.events import SQLiteEvents
from storage.sqlite.facts import SQLiteFacts
from storage.sqlite.feed import SQLiteFeed
from storage.sqlite.graph import SQLiteGraph
from storage.sqlite.identities import SQLiteIdentities
from storage.sqlite.memories import SQLiteMemories
from storage.sqlite.meta import EMBEDDING_DIMENSIONS_KEY, SQLiteMeta
from storage.sqlite.participants import SQLiteParticipants
from storage.sqlite.portability import SQLitePortability
from storage.sqlite.reindex import SQLiteReindex
from storage.sqlite.retention import SQLiteRetention
from storage.sqlite.rooms import SQLiteRooms
from storage.sqlite.rows import fetch_one
from storage.sqlite.search import VECTOR_MODE, SQLiteSearch
from storage.sqlite.sessions import SQLiteSessions
from storage.sqlite.tasks import SQLiteTasks
from storage.sqlite.vector_log import VectorIndexMixin
from storage.sqlite.versions import SQLiteVersions

__all__ = ["SQLiteOptions", "SQLiteStore", "parse_sqlite_url"]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class SQLiteOptions:
    """Options of ``SQLiteStore.open`` (``open_store(url, **options)`` refuses any other name).

    Attributes:
        busy_timeout_seconds: how long a write waits for another process's write lock before
            ``BackendUnavailableError`` (seconds, >= 0).
        embedding_dimensions: the expected embedding size until the store records one from a write.
        vector_index: keep the in-process ANN index (``storage.vector_index``), built in the background.
    """

    busy_timeout_seconds: float = Field(default=30.0, ge=0)
    embedding_dimensions: int | None = Field(default=None, ge=1)
    vector_index: bool = True


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


def _schema_version(conn: apsw.Connection) -> int:
    row = fetch_one(conn, "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
    return 0 if row is None else int(row["v"])


def _journal_mode(conn: apsw.Connection) -> str:
    row = fetch_one(conn, "PRAGMA journal_mode")
    return "unknown" if row is None else str(row["journal_mode"])


class SQLiteStore(
    SQLiteRooms,
    SQLiteParticipants,
    SQLiteEvents,
    SQLiteIdentities,
    SQLiteTasks,
    SQLiteEscalations,
    SQLiteMemories,
    SQLiteSessions,
    SQLiteSearch,
    SQLiteRetention,
    SQLiteReindex,
    SQLiteMeta,
    SQLiteFacts,
    SQLiteVersions,
    SQLiteGraph,
    SQLiteAlerts,
    SQLiteAudit,
    SQLiteFeed,
    SQLitePortability,
    VectorIndexMixin,
):
    """The SQLite backend: one database file in WAL mode, one writer, a few readers.

    Open with ``await SQLiteStore.open(url)`` (or ``storage.open_store``); use as an async context manager
    or call ``close()``.
    """

    @classmethod
    async def open(cls, url: str, options: SQLiteOptions | None = None) -> SQLiteStore:
        """Open the file at ``url`` (creating it and its directory), switch to WAL, apply migrations.

        Args:
            url: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.
            options: busy timeout and embedding size (defaults: ``SQLiteOptions()``).

        Raises:
            InvalidInputError: bad URL; ``embedding_dimensions`` differs from the recorded size.
            SchemaVersionError: the database is newer than this code, or a migration failed.
            BackendUnavailableError: the file cannot be created or opened, or stayed locked.
        """
        options = options or SQLiteOptions()
        db = Database(parse_sqlite_url(url), options.busy_timeout_seconds)
        await db.open(load_migrations("storage.sqlite"))
        store = cls(db, options.embedding_dimensions)
        recorded = await store.get_meta(EMBEDDING_DIMENSIONS_KEY)
        dims = options.embedding_dimensions
        if dims is not None and recorded is not None and int(recorded) != dims:
            await db.close()
            raise InvalidInputError(
                f"this store holds {recorded}-dimensional embeddings, but {dims} were "
                "configured: use the embedder the store was built with"
            )
        if options.vector_index:
            store._start_vector_index(db.path, options.busy_timeout_seconds)
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
        recorded = await self.get_meta(EMBEDDING_DIMENSIONS_KEY)
        facts.update(
            path=str(self._db.path.resolve()),
            journal_mode=journal,
            vector_mode=VECTOR_MODE,
            embedding_dimensions=int(recorded) if recorded is not None else self._dims,
            busy_timeout_seconds=self._db.busy_timeout_seconds,
            change_feed="unix-datagram",
            vector_index=self._vector_index_facts(),
        )
        return facts
