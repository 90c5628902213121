"""Retention on PostgreSQL (``PostgresRetention``): removing what ``RetentionQueries`` chose to prune.

Pruning locks the namespace's change-log head first (the lock order of every namespace writer), then
removes each memory through ``_remove_memory``, so each deletion is in the change log (a rollback to an
earlier snapshot brings it back, see docs/versioning.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from storage.contracts.retention import PRUNE_ACTOR, pruned_memory
from storage.memories import PruneQuery
from storage.models import PrunedMemory, PruneReason
from storage.postgres import changelog
from storage.postgres.memories import PostgresMemories
from storage.postgres.rows import ROWS
from storage.queries.retention import RetentionQueries

__all__ = ["PostgresRetention"]


class PostgresRetention(RetentionQueries, PostgresMemories):
    """``RetentionStore``'s removal on PostgreSQL: the namespace's change-log head locked first."""

    async def _prune(
        self, namespace: str, queries: Sequence[PruneQuery], *, dry_run: bool
    ) -> list[PrunedMemory]:
        chosen: list[tuple[Mapping[str, Any], PruneReason]] = []
        async with self._transaction() as conn:
            if not dry_run:
                await changelog.lock_head(conn, namespace)
            for query in queries:
                chosen += query.chosen(await conn.fetch(query.sql, *query.values))
            pruned: list[PrunedMemory] = []
            for row, reason in chosen:
                memory = ROWS.memory(row)
                if not dry_run:
                    await self._remove_memory(conn, memory, PRUNE_ACTOR)
                pruned.append(pruned_memory(memory, reason))
        return pruned
