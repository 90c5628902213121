"""The per-namespace change log of the PostgreSQL backend: storing ``storage.changelog.LogEntry`` rows.

What an entry holds is decided in ``storage.changelog``; this module numbers and stores it. Every write
to a namespace first bumps (or locks) its ``namespace_heads`` row, and holds that row lock until it
commits. So writes to one namespace are serialised, their sequence numbers are gapless and in commit
order, and a snapshot (which locks the same row) sees exactly the writes committed before it. Taking the
head lock first in every writer also fixes one lock order: no deadlock between writers.
"""

from __future__ import annotations

import asyncpg

from storage.changelog import (
    LogEntry,
    memory_added,
    memory_deleted,
)
from storage.models import Memory
from storage.postgres.core import run_postgres_plan
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.queries.changelog import append_plan, head_plan, last_fact_version_plan
from storage.queries.reader import Dialect

__all__ = [
    "bump",
    "head",
    "last_fact_version",
    "lock_head",
    "record",
    "record_memory_add",
    "record_memory_delete",
]

_DIALECT = Dialect(PostgresParams, ROWS)


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
    return await run_postgres_plan(conn, head_plan(_DIALECT, namespace))


async def record(conn: asyncpg.Connection, entry: LogEntry, seq: int | None = None) -> int:
    """Append ``entry`` (bumping its namespace's head unless ``seq`` was reserved); return its seq."""
    seq = await bump(conn, entry.namespace) if seq is None else seq
    return await run_postgres_plan(conn, append_plan(_DIALECT, entry, seq))


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
    return await run_postgres_plan(conn, last_fact_version_plan(_DIALECT, namespace, key))
