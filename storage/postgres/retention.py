"""Retention on PostgreSQL (``PostgresRetention``): counting memories per namespace, pruning one by age
and size.

Pruning locks the namespace's change-log head first (the lock order of every namespace writer), then
removes each memory through ``_remove_memory``, so each deletion is in the change log (a rollback to an
earlier snapshot brings it back, see docs/versioning.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storage.contracts.retention import PRUNE_ACTOR, check_prune, pruned_memory
from storage.memories import NAMESPACE_COUNTS_SQL, namespace_counts, prune_queries
from storage.models import NamespaceCount, PrunedMemory, PruneReason
from storage.postgres import changelog
from storage.postgres.filters import PostgresParams
from storage.postgres.memories import PostgresMemories
from storage.postgres.rows import ROWS

__all__ = ["PostgresRetention"]


class PostgresRetention(PostgresMemories):
    """``RetentionStore`` on PostgreSQL."""

    async def namespace_counts(self) -> list[NamespaceCount]:
        """Every namespace holding memories with its count and oldest ``created_at``, by namespace."""
        async with self._connection() as conn:
            rows = await conn.fetch(NAMESPACE_COUNTS_SQL)
        return namespace_counts(rows, ROWS.load_time)

    async def prune_namespace(
        self,
        namespace: str,
        *,
        max_memories: int | None = None,
        expires_before: datetime | None = None,
        dry_run: bool = False,
    ) -> list[PrunedMemory]:
        """Prune one namespace (see ``RetentionStore.prune_namespace``). Raises: InvalidInputError."""
        check_prune(max_memories)
        chosen: list[tuple[Mapping[str, Any], PruneReason]] = []
        async with self._transaction() as conn:
            if not dry_run:
                await changelog.lock_head(conn, namespace)
            for query in prune_queries(PostgresParams, namespace, max_memories, expires_before):
                chosen += query.chosen(await conn.fetch(query.sql, *query.values))
            pruned: list[PrunedMemory] = []
            for row, reason in chosen:
                memory = ROWS.memory(row)
                if not dry_run:
                    await self._remove_memory(conn, memory, PRUNE_ACTOR)
                pruned.append(pruned_memory(memory, reason))
        return pruned
