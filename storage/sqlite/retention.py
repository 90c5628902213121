"""Retention on SQLite (``SQLiteRetention``): counting memories per namespace, pruning one by age and size.

Pruned memories go through ``memories.remove_memory``, so each deletion is in the namespace's change log
(a rollback to an earlier snapshot brings them back, see docs/versioning.md). A dry run is a read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import apsw

from storage.contracts.retention import PRUNE_ACTOR, check_prune, pruned_memory
from storage.memories import NAMESPACE_COUNTS_SQL, namespace_counts, prune_queries
from storage.models import NamespaceCount, PrunedMemory, PruneReason
from storage.sqlite.core import SQLiteCore
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.memories import remove_memory
from storage.sqlite.rows import ROWS, fetch_all, from_ts

__all__ = ["SQLiteRetention"]


def _namespace_counts(conn: apsw.Connection) -> list[NamespaceCount]:
    return namespace_counts(fetch_all(conn, NAMESPACE_COUNTS_SQL), from_ts)


def _prune_namespace(
    conn: apsw.Connection,
    namespace: str,
    max_memories: int | None,
    expires_before: datetime | None,
    dry_run: bool,
) -> list[PrunedMemory]:
    check_prune(max_memories)
    chosen: list[tuple[Mapping[str, Any], PruneReason]] = []
    for query in prune_queries(SQLiteParams, namespace, max_memories, expires_before):
        chosen += query.chosen(fetch_all(conn, query.sql, query.values))
    pruned: list[PrunedMemory] = []
    for row, reason in chosen:
        memory = ROWS.memory(row)
        if not dry_run:
            remove_memory(conn, memory, PRUNE_ACTOR)
        pruned.append(pruned_memory(memory, reason))
    return pruned


class SQLiteRetention(SQLiteCore):
    """``RetentionStore`` of the SQLite backend."""

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
