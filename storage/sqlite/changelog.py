"""The per-namespace change log of the SQLite backend: storing ``storage.changelog.LogEntry`` rows.

What an entry holds is decided in ``storage.changelog``; this module numbers and stores it. Every memory
add/delete and fact set/delete calls ``record`` inside its write transaction. SQLite has one writer at a
time, so bumping ``namespace_heads`` in the transaction makes sequence numbers gapless and in commit order.
"""

from __future__ import annotations

import apsw

from storage.changelog import (
    LogEntry,
    memory_added,
    memory_deleted,
)
from storage.models import Memory
from storage.queries.changelog import append_plan, head_plan, last_fact_version_plan
from storage.queries.reader import Dialect
from storage.sqlite.core import run_sqlite_plan
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.rows import ROWS, fetch_one

__all__ = [
    "bump",
    "head",
    "last_fact_version",
    "record",
    "record_memory_add",
    "record_memory_delete",
]

_DIALECT = Dialect(SQLiteParams, ROWS)


def bump(conn: apsw.Connection, namespace: str, count: int = 1) -> int:
    """Reserve ``count`` sequence numbers of ``namespace`` and return the last one."""
    row = fetch_one(
        conn,
        "INSERT INTO namespace_heads (namespace, last_seq) VALUES (?, ?)"
        " ON CONFLICT (namespace) DO UPDATE SET last_seq = last_seq + excluded.last_seq RETURNING last_seq",
        (namespace, count),
    )
    assert row is not None
    return int(row["last_seq"])


def head(conn: apsw.Connection, namespace: str) -> int:
    """The namespace's newest sequence number (0 when nothing was ever written to it)."""
    return run_sqlite_plan(conn, head_plan(_DIALECT, namespace))


def record(conn: apsw.Connection, entry: LogEntry, seq: int | None = None) -> int:
    """Append ``entry`` (bumping its namespace's head unless ``seq`` was reserved); return its seq."""
    seq = bump(conn, entry.namespace) if seq is None else seq
    return run_sqlite_plan(conn, append_plan(_DIALECT, entry, seq))


def record_memory_add(
    conn: apsw.Connection, memory: Memory, actor: str | None, seq: int | None = None
) -> int:
    """Log the addition of ``memory`` (``storage.changelog.memory_added``)."""
    return record(conn, memory_added(memory, actor), seq)


def record_memory_delete(
    conn: apsw.Connection, memory: Memory, embedding: bytes | None, actor: str | None, seq: int | None = None
) -> int:
    """Log the deletion of ``memory`` with its record and embedding (``storage.changelog.memory_deleted``)."""
    return record(conn, memory_deleted(memory, embedding, actor), seq)


def last_fact_version(conn: apsw.Connection, namespace: str, key: str) -> int:
    """The highest version the change log holds for a fact key (0 when none)."""
    return run_sqlite_plan(conn, last_fact_version_plan(_DIALECT, namespace, key))
