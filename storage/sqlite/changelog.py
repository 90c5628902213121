"""The per-namespace change log of the SQLite backend (see ``storage.contracts.versions``).

Every memory add/delete and fact set/delete calls one of these functions inside its write transaction.
SQLite has one writer at a time, so bumping ``namespace_heads`` in the transaction makes sequence numbers
gapless and in commit order.
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from storage.models import Memory, utc_now
from storage.sqlite.rows import fetch_all, fetch_one, to_json, ts
from storage.versioning import Change

__all__ = ["bump", "changes_since", "head", "record", "record_memory_add", "record_memory_delete"]


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


def record(
    conn: apsw.Connection,
    namespace: str,
    item_type: str,
    item_key: str,
    op: str,
    *,
    level: int,
    actor: str | None,
    version: int | None = None,
    before: Any = None,
    before_embedding: bytes | None = None,
    after: Any = None,
    seq: int | None = None,
) -> int:
    """Append one change (bumping the namespace's head unless ``seq`` was reserved); return its seq."""
    seq = bump(conn, namespace) if seq is None else seq
    conn.execute(
        "INSERT INTO namespace_changes (namespace, seq, item_type, item_key, op, version, sensitivity_level,"
        " before, before_embedding, after, actor, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            namespace,
            seq,
            item_type,
            item_key,
            op,
            version,
            level,
            None if before is None else to_json(before),
            before_embedding,
            None if after is None else to_json(after),
            actor,
            ts(utc_now()),
        ),
    )
    return seq


def record_memory_add(
    conn: apsw.Connection, memory: Memory, actor: str | None, seq: int | None = None
) -> int:
    """Log the addition of ``memory`` (its id only: the row is the state)."""
    return record(
        conn,
        memory.namespace,
        "memory",
        memory.memory_id,
        "add",
        level=memory.sensitivity.level,
        actor=actor,
        seq=seq,
    )


def record_memory_delete(
    conn: apsw.Connection, memory: Memory, embedding: bytes | None, actor: str | None
) -> int:
    """Log the deletion of ``memory`` with its whole record and embedding (so a rollback can restore it)."""
    return record(
        conn,
        memory.namespace,
        "memory",
        memory.memory_id,
        "delete",
        level=memory.sensitivity.level,
        actor=actor,
        before=memory.model_dump(mode="json"),
        before_embedding=embedding,
    )


def changes_since(conn: apsw.Connection, namespace: str, seq: int) -> list[Change]:
    """The namespace's changes with a sequence number above ``seq``, oldest first."""
    rows = fetch_all(
        conn,
        "SELECT seq, item_type, item_key, sensitivity_level, before, before_embedding FROM namespace_changes"
        " WHERE namespace = ? AND seq > ? ORDER BY seq",
        (namespace, seq),
    )
    return [
        Change(
            seq=r["seq"],
            item_type=r["item_type"],
            item_key=r["item_key"],
            level=r["sensitivity_level"],
            before=None if r["before"] is None else json.loads(r["before"]),
            before_embedding=r["before_embedding"],
        )
        for r in rows
    ]
