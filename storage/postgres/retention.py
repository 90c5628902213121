"""Retention on PostgreSQL (``PostgresRetention``): counting memories per namespace, pruning one by age
and size.

Pruning locks the namespace's change-log head first (the lock order of every namespace writer), then
removes each memory through ``_remove_memory``, so each deletion is in the change log (a rollback to an
earlier snapshot brings it back, see docs/versioning.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.contracts.retention import PRUNE_ACTOR, check_prune, pruned_memory
from storage.models import NamespaceCount, PrunedMemory, PruneReason
from storage.postgres import changelog
from storage.postgres.memories import PostgresMemories
from storage.postgres.rows import ROWS

__all__ = ["PostgresRetention"]


class PostgresRetention(PostgresMemories):
    """``RetentionStore`` on PostgreSQL."""

    async def namespace_counts(self) -> list[NamespaceCount]:
        """Every namespace holding memories with its count and oldest ``created_at``, by namespace."""
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT namespace, count(*) AS n, min(created_at) AS oldest FROM memories GROUP BY namespace"
            )
        counts = [
            NamespaceCount(namespace=r["namespace"], memories=r["n"], oldest_at=r["oldest"]) for r in rows
        ]
        return sorted(counts, key=lambda c: c.namespace)

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
        chosen: list[tuple[Any, PruneReason]] = []
        async with self._transaction() as conn:
            if not dry_run:
                await changelog.lock_head(conn, namespace)
            live = ""
            args: list[Any] = [namespace]
            if expires_before is not None:
                rows = await conn.fetch(
                    "SELECT * FROM memories WHERE namespace = $1 AND created_at < $2"
                    ' ORDER BY created_at, memory_id COLLATE "C"',
                    namespace,
                    expires_before,
                )
                chosen += [(r, "expired") for r in rows]
                live = " AND created_at >= $2"
                args.append(expires_before)
            if max_memories is not None:
                rows = await conn.fetch(
                    f"SELECT * FROM memories WHERE namespace = $1{live}"
                    ' ORDER BY importance DESC, created_at DESC, memory_id COLLATE "C" DESC'
                    f" OFFSET ${len(args) + 1}",
                    *args,
                    max_memories,
                )
                chosen += [(r, "over_limit") for r in reversed(rows)]
            pruned: list[PrunedMemory] = []
            for row, reason in chosen:
                memory = ROWS.memory(row)
                if not dry_run:
                    await self._remove_memory(conn, memory, PRUNE_ACTOR)
                pruned.append(pruned_memory(memory, reason))
        return pruned
