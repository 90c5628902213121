"""The per-namespace change log of the PostgreSQL backend: storing ``storage.changelog.LogEntry`` rows.

What an entry holds is decided in ``storage.changelog``; this module numbers and stores it. Every write
to a namespace first bumps (or locks) its ``namespace_heads`` row, and holds that row lock until it
commits. So writes to one namespace are serialised, their sequence numbers are gapless and in commit
order, and a snapshot (which locks the same row) sees exactly the writes committed before it. Taking the
head lock first in every writer also fixes one lock order: no deadlock between writers.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from storage.changelog import (
    CHANGE_COLUMNS,
    LOG_COLUMNS,
    LogEntry,
    change_from_row,
    memory_added,
    memory_deleted,
)
from storage.models import Memory, utc_now
from storage.versioning import Change

__all__ = [
    "bump",
    "changes_since",
    "head",
    "last_fact_version",
    "lock_head",
    "record",
    "record_memory_add",
    "record_memory_delete",
]


async def bump(conn: asyncpg.Connection, namespace: str, count: int = 1) -> int:
    """Reserve ``count`` sequence numbers of ``namespace`` (locking its head) and return the last one."""
    value = await conn.fetchval(
        "INSERT INTO namespace_heads (namespace, last_seq) VALUES ($1, $2) ON CONFLICT (namespace)"
        " DO UPDATE SET last_seq = namespace_heads.last_seq + EXCLUDED.last_seq RETURNING last_seq",
        namespace,
        count,
    )
    return int(value)


async def lock_head(conn: asyncpg.Connection, namespace: str) -> int:
    """Lock the namespace's head until commit (waiting for writers in flight) and return its seq."""
    return await bump(conn, namespace, 0)


async def head(conn: asyncpg.Connection, namespace: str) -> int:
    """The namespace's newest sequence number (0 when nothing was ever written to it)."""
    value = await conn.fetchval("SELECT last_seq FROM namespace_heads WHERE namespace = $1", namespace)
    return 0 if value is None else int(value)


async def record(conn: asyncpg.Connection, entry: LogEntry, seq: int | None = None) -> int:
    """Append ``entry`` (bumping its namespace's head unless ``seq`` was reserved); return its seq."""
    seq = await bump(conn, entry.namespace) if seq is None else seq
    marks = ", ".join(f"${i}" for i in range(1, 13))
    await conn.execute(
        f"INSERT INTO namespace_changes ({LOG_COLUMNS}) VALUES ({marks})",
        *entry.row(seq, _as_is, utc_now()),
    )
    return seq


def _as_is(value: Any) -> Any:
    """JSON values go to ``jsonb`` through the pool's codec unchanged."""
    return value


async def record_memory_add(
    conn: asyncpg.Connection, memory: Memory, actor: str | None, seq: int | None = None
) -> int:
    """Log the addition of ``memory`` (``storage.changelog.memory_added``)."""
    return await record(conn, memory_added(memory, actor), seq)


async def record_memory_delete(
    conn: asyncpg.Connection,
    memory: Memory,
    embedding: bytes | None,
    actor: str | None,
    seq: int | None = None,
) -> int:
    """Log the deletion of ``memory`` with its record and embedding (``storage.changelog.memory_deleted``)."""
    return await record(conn, memory_deleted(memory, embedding, actor), seq)


async def last_fact_version(conn: asyncpg.Connection, namespace: str, key: str) -> int:
    """The highest version the change log holds for a fact key (0 when none)."""
    value = await conn.fetchval(
        "SELECT max(version) FROM namespace_changes WHERE namespace = $1 AND item_type = 'fact'"
        " AND item_key = $2",
        namespace,
        key,
    )
    return int(value or 0)


async def changes_since(conn: asyncpg.Connection, namespace: str, seq: int) -> list[Change]:
    """The namespace's changes with a sequence number above ``seq``, oldest first."""
    rows = await conn.fetch(
        f"SELECT {CHANGE_COLUMNS} FROM namespace_changes WHERE namespace = $1 AND seq > $2 ORDER BY seq",
        namespace,
        seq,
    )
    return [change_from_row(r, _as_is) for r in rows]
