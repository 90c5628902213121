"""The per-namespace change log of the SQLite backend: storing ``storage.changelog.LogEntry`` rows.

What an entry holds is decided in ``storage.changelog``; this module numbers and stores it. Every memory
add/delete and fact set/delete calls ``record`` inside its write transaction. SQLite has one writer at a
time, so bumping ``namespace_heads`` in the transaction makes sequence numbers gapless and in commit order.
"""

from __future__ import annotations

import json

import apsw

from storage.changelog import (
    CHANGE_COLUMNS,
    LOG_COLUMNS,
    LogEntry,
    change_from_row,
    memory_added,
    memory_deleted,
)
from storage.models import Memory, utc_now
from storage.sqlite.rows import fetch_all, fetch_one, to_json, ts
from storage.versioning import Change

__all__ = [
    "bump",
    "changes_since",
    "head",
    "last_fact_version",
    "record",
    "record_memory_add",
    "record_memory_delete",
]


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
    row = fetch_one(conn, "SELECT last_seq FROM namespace_heads WHERE namespace = ?", (namespace,))
    return 0 if row is None else int(row["last_seq"])


def record(conn: apsw.Connection, entry: LogEntry, seq: int | None = None) -> int:
    """Append ``entry`` (bumping its namespace's head unless ``seq`` was reserved); return its seq."""
    seq = bump(conn, entry.namespace) if seq is None else seq
    conn.execute(
        f"INSERT INTO namespace_changes ({LOG_COLUMNS}) VALUES ({', '.join('?' * 12)})",
        entry.row(seq, to_json, ts(utc_now())),
    )
    return seq


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
    row = fetch_one(
        conn,
        "SELECT MAX(version) AS v FROM namespace_changes"
        " WHERE namespace = ? AND item_type = 'fact' AND item_key = ?",
        (namespace, key),
    )
    return 0 if row is None or row["v"] is None else int(row["v"])


def changes_since(conn: apsw.Connection, namespace: str, seq: int) -> list[Change]:
    """The namespace's changes with a sequence number above ``seq``, oldest first."""
    rows = fetch_all(
        conn,
        f"SELECT {CHANGE_COLUMNS} FROM namespace_changes WHERE namespace = ? AND seq > ? ORDER BY seq",
        (namespace, seq),
    )
    return [change_from_row(r, json.loads) for r in rows]
