"""Retention on SQLite: counting memories per namespace and pruning one namespace by age and size.

Pruned memories go through ``memories.remove_memory``, so each deletion is in the namespace's change log
(a rollback to an earlier snapshot brings them back, see docs/versioning.md).
"""

from __future__ import annotations

from datetime import datetime

import apsw

from storage.errors import InvalidInputError
from storage.models import NamespaceCount, PrunedMemory, PruneReason
from storage.sqlite.core import SQLiteCore
from storage.sqlite.memories import remove_memory
from storage.sqlite.rows import fetch_all, from_ts, memory_from_row, ts

__all__ = ["PRUNE_ACTOR", "SQLiteRetention", "namespace_counts", "prune_namespace"]

#: The actor recorded in the change log for memories removed by pruning.
PRUNE_ACTOR = "retention"


def namespace_counts(conn: apsw.Connection) -> list[NamespaceCount]:
    """Every namespace holding memories with its count and oldest ``created_at``, by namespace."""
    rows = fetch_all(
        conn,
        "SELECT namespace, COUNT(*) AS n, MIN(created_at) AS oldest FROM memories GROUP BY namespace",
    )
    counts = [
        NamespaceCount(namespace=r["namespace"], memories=r["n"], oldest_at=from_ts(r["oldest"]))
        for r in rows
    ]
    return sorted(counts, key=lambda c: c.namespace)


def prune_namespace(
    conn: apsw.Connection,
    namespace: str,
    max_memories: int | None,
    expires_before: datetime | None,
    dry_run: bool,
) -> list[PrunedMemory]:
    """Prune one namespace (see ``RetentionStore.prune_namespace``). Raises: InvalidInputError."""
    if max_memories is not None and max_memories < 0:
        raise InvalidInputError("max_memories must be >= 0")
    chosen: list[tuple[dict[str, object], PruneReason]] = []
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
        memory = memory_from_row(row)
        if not dry_run:
            remove_memory(conn, memory, PRUNE_ACTOR)
        pruned.append(
            PrunedMemory(
                memory_id=memory.memory_id,
                namespace=memory.namespace,
                kind=memory.kind,
                importance=memory.importance,
                created_at=memory.created_at,
                reason=reason,
            )
        )
    return pruned


class SQLiteRetention(SQLiteCore):
    """``RetentionStore`` on SQLite (a dry run reads, a pruning run writes)."""

    async def namespace_counts(self) -> list[NamespaceCount]:
        return await self._db.read(namespace_counts)

    async def prune_namespace(
        self,
        namespace: str,
        *,
        max_memories: int | None = None,
        expires_before: datetime | None = None,
        dry_run: bool = False,
    ) -> list[PrunedMemory]:
        run = self._db.read if dry_run else self._db.write
        return await run(prune_namespace, namespace, max_memories, expires_before, dry_run)
