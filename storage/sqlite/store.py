"""``SQLiteStore``: the ``MemoryStore`` contract on one SQLite file (WAL, FTS5, sqlite-vec).

Each method is one transaction run by ``Database`` in a worker thread: writes under ``BEGIN IMMEDIATE`` on
the single writer connection, reads on a pool of reader connections. The SQL lives in one module per area
(``rooms``, ``events``, ``identities``, ``memories``, ``search``, ``tasks``, ``escalations``); this class
only dispatches to them. Facts and namespace versioning come as mixins (``facts``, ``versions``). Guarantees are those documented on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import apsw

from storage.contracts.store import MemoryStore
from storage.errors import InvalidInputError
from storage.migrate import load_migrations
from storage.models import (
    AuditFilter,
    AuditRecord,
    NewAuditRecord,
    Page,
)
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit
from storage.sqlite import audit, meta
from storage.sqlite.connection import Database
from storage.sqlite.coordination import AlertsMixin, GraphMixin
from storage.sqlite.escalations import SQLiteEscalations
from storage.sqlite.events import SQLiteEvents
from storage.sqlite.facts import FactsMixin
from storage.sqlite.feed import DatagramFeedMixin
from storage.sqlite.identities import SQLiteIdentities
from storage.sqlite.memories import SQLiteMemories
from storage.sqlite.participants import SQLiteParticipants
from storage.sqlite.reindex import SQLiteReindex
from storage.sqlite.retention import SQLiteRetention
from storage.sqlite.rooms import SQLiteRooms
from storage.sqlite.rows import fetch_one
from storage.sqlite.search import VECTOR_MODE, SQLiteSearch
from storage.sqlite.tasks import SQLiteTasks
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
    SQLiteRooms,
    SQLiteParticipants,
    SQLiteEvents,
    SQLiteIdentities,
    SQLiteTasks,
    SQLiteEscalations,
    SQLiteMemories,
    SQLiteSearch,
    SQLiteRetention,
    SQLiteReindex,
    GraphMixin,
    AlertsMixin,
    FactsMixin,
    VersionsMixin,
    DatagramFeedMixin,
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
            vector_mode=VECTOR_MODE,
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

    # --- audit log -----------------------------------------------------------------------------------

    async def append_audit(self, record: NewAuditRecord) -> AuditRecord:
        return await self._db.write(audit.append_audit, record)

    async def list_audit(
        self, filters: AuditFilter, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[AuditRecord]:
        return await self._db.read(audit.list_audit, filters, clamp_limit(limit), cursor)
