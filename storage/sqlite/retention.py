"""Retention on SQLite (``SQLiteRetention``): counting memories per namespace, pruning one by age and size.

Pruned memories go through ``memories.remove_memory``, so each deletion is in the namespace's change log
(a rollback to an earlier snapshot brings them back, see docs/versioning.md). A dry run is a read.
"""

from __future__ import annotations

from datetime import datetime

import apsw

from storage.contracts.retention import PRUNE_ACTOR, check_prune, pruned_memory
from storage.contracts.store import MemoryStore
from storage.models import NamespaceCount, PrunedMemory, PruneReason
from storage.sqlite.connection import Database
from storage.sqlite.memories import remove_memory
from storage.sqlite.rows import ROWS, Row, fetch_all, from_ts, ts

__all__ = ["SQLiteRetention"]


def _namespace_counts(conn: apsw.Connection) -> list[NamespaceCount]:
    rows = fetch_all(
        conn,
        "SELECT namespace, COUNT(*) AS n, MIN(created_at) AS oldest FROM memories GROUP BY namespace",
    )
    counts = [
        NamespaceCount(namespace=r["namespace"], memories=r["n"], oldest_at=from_ts(r["oldest"]))
        for r in rows
    ]
    return sorted(counts, key=lambda c: c.namespace)


def _prune_namespace(
    conn: apsw.Connection,
    namespace: str,
    max_memories: int | None,
    expires_before: datetime | None,
    dry_run: bool,
) -> list[PrunedMemory]:
    check_prune(max_memories)
    chosen: list[tuple[Row, PruneReason]] = []
    live = ""
    params: list[object] = [namespace]
    if expires_before is not None:
        rows = fetch_all(
            conn,
            "SELECT * FROM memories WHERE namespace = ? AND created_at < ? ORDER BY created_at, memory_id",
            (namespace, ts(expires_before)),
        )
        chosen += [(r, "expired") for r in rows]
        live = " AND created_at >= ?"
        params.append(ts(expires_before))
    if max_memories is not None:
        rows = fetch_all(
            conn,
            f"SELECT * FROM memories WHERE namespace = ?{live}"
            " ORDER BY importance DESC, created_at DESC, memory_id DESC LIMIT -1 OFFSET ?",
            (*params, max_memories),
        )
        chosen += [(r, "over_limit") for r in reversed(rows)]
    pruned: list[PrunedMemory] = []
    for row, reason in chosen:
        memory = ROWS.memory(row)
        if not dry_run:
            remove_memory(conn, memory, PRUNE_ACTOR)
        pruned.append(pruned_memory(memory, reason))
    return pruned


class SQLiteRetention(MemoryStore):
    """``RetentionStore`` of the SQLite backend."""

    _db: Database

    async def namespace_counts(self) -> list[NamespaceCount]:
        return await self._db.read(_namespace_counts)

    async def prune_namespace(
        self,
        namespace: str,
        *,
        max_memories: int | None = None,
        expires_before: datetime | None = None,
        dry_run: bool = False,
    ) -> list[PrunedMemory]:
        run = self._db.read if dry_run else self._db.write
        return await run(_prune_namespace, namespace, max_memories, expires_before, dry_run)
