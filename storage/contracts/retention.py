"""The retention part of the storage contract: ``RetentionStore`` (mixed into ``MemoryStore``).

The store knows no configuration: the service reads the retention rules of the team config and asks the
store to prune one namespace at a time. Guarantees use MUST / SHOULD (RFC 2119).
"""

from __future__ import annotations

import abc
from datetime import datetime

from storage.errors import InvalidInputError
from storage.models import Memory, NamespaceCount, PrunedMemory, PruneReason

__all__ = ["PRUNE_ACTOR", "RetentionStore", "check_prune", "pruned_memory"]

#: The actor recorded in the change log for memories removed by pruning.
PRUNE_ACTOR = "retention"


def check_prune(max_memories: int | None) -> None:
    """Raise ``InvalidInputError`` for a negative ``max_memories``."""
    if max_memories is not None and max_memories < 0:
        raise InvalidInputError("max_memories must be >= 0")


def pruned_memory(memory: Memory, reason: PruneReason) -> PrunedMemory:
    """What ``prune_namespace`` reports of one memory it removes (or would remove) and why."""
    return PrunedMemory(
        memory_id=memory.memory_id,
        namespace=memory.namespace,
        kind=memory.kind,
        importance=memory.importance,
        created_at=memory.created_at,
        reason=reason,
    )


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
