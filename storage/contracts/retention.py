"""The retention part of the storage contract: ``RetentionStore`` (mixed into ``MemoryStore``).

The store knows no configuration: the service reads the retention rules of the team config and asks the
store to prune one namespace at a time. Guarantees use MUST / SHOULD (RFC 2119).
"""

from __future__ import annotations

import abc
from datetime import datetime

from storage.models import NamespaceCount, PrunedMemory

__all__ = ["RetentionStore"]


class RetentionStore(abc.ABC):
    """Counting memories per namespace and pruning a namespace by age and size."""

    @abc.abstractmethod
    async def namespace_counts(self) -> list[NamespaceCount]:
        """Every namespace holding memories, with its count and oldest ``created_at``, by namespace."""

    @abc.abstractmethod
    async def prune_namespace(
        self,
        namespace: str,
        *,
        max_memories: int | None = None,
        expires_before: datetime | None = None,
        dry_run: bool = False,
    ) -> list[PrunedMemory]:
        """Delete the memories of ``namespace`` its retention rule no longer keeps, in one transaction.

        First every memory created before ``expires_before`` (reason ``expired``, oldest first); then,
        of the rest, all but the ``max_memories`` to keep, where memories are kept by importance (highest
        first), then recency (newest first), then id (reason ``over_limit``, least important then oldest
        first). Memories and their search entries go together. With ``dry_run`` nothing is deleted and
        the same list is returned.

        Raises:
            InvalidInputError: ``max_memories`` below 0.
        """
