"""Retention on SQLite (``SQLiteRetention``): removing what ``RetentionQueries`` chose to prune.

Pruned memories go through ``memories.remove_memory``, so each deletion is in the namespace's change log
(a rollback to an earlier snapshot brings them back, see docs/versioning.md). A dry run is a read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import apsw

from storage.contracts.retention import PRUNE_ACTOR, pruned_memory
from storage.memories import PruneQuery
from storage.models import PrunedMemory, PruneReason
from storage.queries.retention import RetentionQueries
from storage.sqlite.core import SQLiteCore
from storage.sqlite.memories import remove_memory
from storage.sqlite.rows import ROWS, fetch_all

__all__ = ["SQLiteRetention"]


def _prune(conn: apsw.Connection, queries: Sequence[PruneQuery], dry_run: bool) -> list[PrunedMemory]:
    chosen: list[tuple[Mapping[str, Any], PruneReason]] = []
    for query in queries:
        chosen += query.chosen(fetch_all(conn, query.sql, query.values))
    pruned: list[PrunedMemory] = []
    for row, reason in chosen:
        memory = ROWS.memory(row)
        if not dry_run:
            remove_memory(conn, memory, PRUNE_ACTOR)
        pruned.append(pruned_memory(memory, reason))
    return pruned


class SQLiteRetention(RetentionQueries, SQLiteCore):
    """``RetentionStore``'s removal on SQLite: one write transaction (a read for a dry run)."""

    async def _prune(
        self, namespace: str, queries: Sequence[PruneQuery], *, dry_run: bool
    ) -> list[PrunedMemory]:
        run = self._db.read if dry_run else self._db.write
        return await run(_prune, queries, dry_run)
