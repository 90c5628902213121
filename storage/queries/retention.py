"""``RetentionQueries``: the per-namespace counts and the choice of what pruning removes, written once.

The backends keep only ``_prune``: running the chosen statements in one transaction and removing each
chosen memory through their change-logged removal (see docs/versioning.md).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime

from storage.contracts.retention import RetentionStore, check_prune
from storage.memories import NAMESPACE_COUNTS_SQL, PruneQuery, namespace_counts, prune_queries
from storage.models import NamespaceCount, PrunedMemory
from storage.queries.reader import Reader

__all__ = ["RetentionQueries"]


class RetentionQueries(Reader, RetentionStore):
    """``RetentionStore``: counts read here; ``prune_namespace`` checks and chooses here, removes in ``_prune``."""

    async def namespace_counts(self) -> list[NamespaceCount]:
        return namespace_counts(await self._fetch(NAMESPACE_COUNTS_SQL, ()), self.ROWS.load_time)

    async def prune_namespace(
        self,
        namespace: str,
        *,
        max_memories: int | None = None,
        expires_before: datetime | None = None,
        dry_run: bool = False,
    ) -> list[PrunedMemory]:
        check_prune(max_memories)
        queries = prune_queries(self.PARAMS, namespace, max_memories, expires_before)
        return await self._prune(namespace, queries, dry_run=dry_run)

    @abstractmethod
    async def _prune(
        self, namespace: str, queries: Sequence[PruneQuery], *, dry_run: bool
    ) -> list[PrunedMemory]:
        """Run ``queries`` in one transaction and remove the memories they choose (``PruneQuery.chosen``,
        in that order) with their search documents, each logged in ``namespace``'s change log; with
        ``dry_run`` only read them. Returns each as ``pruned_memory`` reports it."""
