"""Connections of the SQLite backend: one writer serialised by a lock, a few readers, all off the loop.

SQLite in WAL mode lets readers run beside the one writer. Each ``Database.write`` call runs a function
in a worker thread inside ``BEGIN IMMEDIATE ... COMMIT`` on the writer connection: the write lock is
taken up front, so two processes never both hold a read snapshot they then try to upgrade (the cause of
``database is locked`` errors with deferred transactions); the busy timeout makes a process wait for the
other's commit instead of failing. Each ``Database.read`` runs inside ``BEGIN ... COMMIT`` on a reader
connection, so the statements of one read see one snapshot.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, TypeVarTuple, Unpack

import anyio.to_thread
import apsw
import sqlite_vec

from storage.errors import BackendUnavailableError, SchemaVersionError
from storage.migrate import Migration, check_not_newer
from storage.paging import isoformat
from storage.sqlite.errors import map_apsw_exceptions
from storage.sqlite.rows import fetch_one

__all__ = ["Database", "dict_row"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

#: Reader connections per store: 2 cores here; more readers than cores only adds contention.
DEFAULT_READERS = 4
#: Pause between retries of ``BEGIN IMMEDIATE`` when SQLite reports busy without waiting (seconds).
_BEGIN_RETRY_PAUSE_SECONDS = 0.005


def dict_row(cursor: apsw.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    """Row tracer turning each row into ``{column name: value}``."""
    return {desc[0]: value for desc, value in zip(cursor.get_description(), row, strict=True)}


def _connect(path: Path, busy_timeout_seconds: float, *, reader: bool) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    conn.set_busy_timeout(int(busy_timeout_seconds * 1000))
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    conn.enable_load_extension(False)
    conn.set_row_trace(dict_row)
    if not reader:
        # WAL persists in the file; setting it needs no transaction and waits on the busy timeout.
        conn.execute("PRAGMA journal_mode = WAL").fetchall()
    # FULL: a commit that returned survives power loss (sqlite.org/pragma.html#pragma_synchronous).
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    if reader:
        conn.execute("PRAGMA query_only = ON")
    return conn


class Database:
    """The connections of one SQLite file; run functions ``fn(conn, *args)`` in one transaction each.

    Thread-safe: the writer is guarded by a ``threading.Lock`` taken inside the worker thread, readers come
    from a blocking queue, so no async primitive ties the store to one event loop.
    """

    def __init__(self, path: Path, busy_timeout_seconds: float, readers: int = DEFAULT_READERS) -> None:
        self.path = path
        self.busy_timeout_seconds = busy_timeout_seconds
        self._reader_count = readers
        self._writer: apsw.Connection | None = None
        self._write_lock = threading.Lock()
        self._readers: queue.LifoQueue[apsw.Connection] = queue.LifoQueue()
        self._all_readers: list[apsw.Connection] = []
        self._closed = False

    # --- life cycle ----------------------------------------------------------------------------------

    async def open(self, migrations: list[Migration]) -> None:
        """Create the file (and its directory), switch to WAL, apply pending migrations, open readers.

        Raises:
            SchemaVersionError: the database is newer than this code, or a migration failed.
            BackendUnavailableError: the file cannot be created or opened, or stayed locked.
        """
        await anyio.to_thread.run_sync(self._open_sync, migrations)

    def _open_sync(self, migrations: list[Migration]) -> None:
        with map_apsw_exceptions():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BackendUnavailableError("the database directory cannot be created") from exc
            self._writer = _connect(self.path, self.busy_timeout_seconds, reader=False)
            try:
                self._migrate(self._writer, migrations)
                for _ in range(self._reader_count):
                    conn = _connect(self.path, self.busy_timeout_seconds, reader=True)
                    self._all_readers.append(conn)
                    self._readers.put(conn)
            except BaseException:
                self._close_sync()
                raise

    def _migrate(self, conn: apsw.Connection, migrations: list[Migration]) -> None:
        """Apply each pending migration in its own transaction, together with its schema_migrations row."""
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        check_not_newer(self._applied_version(conn), migrations)
        for migration in migrations:
            self._begin_immediate(conn)
            try:
                # Re-read under the write lock: another process may have applied it meanwhile.
                check_not_newer(self._applied_version(conn), migrations)
                if not self._is_applied(conn, migration.version):
                    conn.execute(migration.sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        (migration.version, migration.name, isoformat(datetime.now(UTC))),
                    )
                conn.execute("COMMIT")
            except apsw.BusyError:
                self._rollback(conn)
                raise
            except apsw.Error as exc:
                self._rollback(conn)
                raise SchemaVersionError(
                    f"migration {migration.version:04d}_{migration.name} failed and was rolled back"
                ) from exc
            except BaseException:
                self._rollback(conn)
                raise

    @staticmethod
    def _is_applied(conn: apsw.Connection, version: int) -> bool:
        return (
            fetch_one(conn, "SELECT 1 AS x FROM schema_migrations WHERE version = ?", (version,)) is not None
        )

    @staticmethod
    def _applied_version(conn: apsw.Connection) -> int:
        row = fetch_one(conn, "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        return 0 if row is None else int(row["v"])

    async def close(self) -> None:
        """Close every connection (idempotent); later calls raise ``BackendUnavailableError``."""
        await anyio.to_thread.run_sync(self._close_sync)

    def _close_sync(self) -> None:
        with self._write_lock:
            self._closed = True
            conns = [c for c in [self._writer, *self._all_readers] if c is not None]
            self._writer = None
            self._all_readers = []
            for conn in conns:
                with contextlib.suppress(apsw.Error):  # closing is best effort
                    conn.close()

    # --- transactions --------------------------------------------------------------------------------

    async def write(self, fn: Callable[[apsw.Connection, Unpack[Ts]], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` in a worker thread inside one ``BEGIN IMMEDIATE`` transaction.

        Commits when ``fn`` returns, rolls back when it raises (nothing of it is visible).

        Raises:
            BackendUnavailableError: the write lock was not obtained within the busy timeout, or closed.
        """
        return await anyio.to_thread.run_sync(self._write_sync, fn, args)

    def _write_sync(self, fn: Callable[[apsw.Connection, Unpack[Ts]], T], args: tuple[*Ts]) -> T:
        with self._write_lock, map_apsw_exceptions():
            conn = self._writer
            if conn is None or self._closed:
                raise BackendUnavailableError("the store is closed")
            self._begin_immediate(conn)
            try:
                result = fn(conn, *args)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback(conn)
                raise
            return result

    async def read(self, fn: Callable[[apsw.Connection, Unpack[Ts]], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` in a worker thread inside one read transaction (one snapshot).

        Raises:
            BackendUnavailableError: the store is closed.
        """
        return await anyio.to_thread.run_sync(self._read_sync, fn, args)

    def _read_sync(self, fn: Callable[[apsw.Connection, Unpack[Ts]], T], args: tuple[*Ts]) -> T:
        if self._closed:
            raise BackendUnavailableError("the store is closed")
        conn = self._readers.get()
        try:
            with map_apsw_exceptions():
                if self._closed:
                    raise BackendUnavailableError("the store is closed")
                conn.execute("BEGIN")
                try:
                    return fn(conn, *args)
                finally:
                    self._rollback(conn)
        finally:
            self._readers.put(conn)

    def _begin_immediate(self, conn: apsw.Connection) -> None:
        """``BEGIN IMMEDIATE``, retried until the busy timeout when SQLite reports busy without waiting.

        Raises:
            apsw.BusyError: still locked after ``busy_timeout_seconds`` (mapped by the caller).
        """
        deadline = time.monotonic() + self.busy_timeout_seconds
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except apsw.BusyError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(_BEGIN_RETRY_PAUSE_SECONDS)

    @staticmethod
    def _rollback(conn: apsw.Connection) -> None:
        if conn.in_transaction:
            with contextlib.suppress(apsw.Error):
                conn.execute("ROLLBACK")
