"""The re-embedding part of the storage contract: ``ReindexStore`` (mixed into ``MemoryStore``).

A store's vectors all come from one embedding model, recorded in meta (``embedding_model``,
``embedding_dimensions``). Changing the model re-embeds every memory and event:

1. ``begin_reindex(model, dimensions)`` records the target. Vectors of the target are *staged* beside the
   live ones, so searches keep using the old, consistent vectors meanwhile.
2. ``reindex_batch`` / ``stage_embeddings`` in a loop, one transaction per batch. Staged vectors survive a
   crash: calling ``begin_reindex`` again with the same target resumes where it stopped (resumable).
3. ``finish_reindex`` switches in ONE transaction: every staged vector becomes the live one, meta records
   the new model and size, the vector index is rebuilt for the new size (atomic: a reader sees all old
   vectors or all new ones, never a mix).

Memories and events are immutable (insert and delete only), so a staged vector never goes stale.
Guarantees use MUST / SHOULD (RFC 2119).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.models import ReindexItem, ReindexProgress, StagedEmbedding

__all__ = ["EMBEDDING_DIMENSIONS_KEY", "EMBEDDING_MODEL_KEY", "ReindexStore"]

EMBEDDING_MODEL_KEY = "embedding_model"
"""Meta key: identity (``Embedder.name``) of the model that made the store's live vectors."""

EMBEDDING_DIMENSIONS_KEY = "embedding_dimensions"
"""Meta key: size of the store's live vectors (float32 values per vector)."""


class ReindexStore(abc.ABC):
    """Re-embedding every searchable item with another model: staged in batches, switched atomically."""

    @abc.abstractmethod
    async def begin_reindex(self, model: str, dimensions: int) -> ReindexProgress:
        """Start re-embedding towards ``model`` (``dimensions`` values per vector), or resume it.

        With the same target as an unfinished reindex, vectors staged so far MUST be kept (resume);
        with another target they MUST be discarded first. Live vectors and meta are not touched.

        Raises:
            InvalidInputError: empty ``model`` or ``dimensions`` outside 1..16000.
        """

    @abc.abstractmethod
    async def reindex_batch(
        self, *, after: tuple[str, str] | None = None, limit: int = 64
    ) -> list[ReindexItem]:
        """Up to ``limit`` items with no staged vector yet, ordered by ``(item_type, item_id)``.

        Args:
            after: ``(item_type, item_id)`` of the last item of the previous batch (keyset paging).
            limit: batch size, 1..1000.

        Raises:
            InvalidInputError: no reindex in progress, or a bad ``limit``.
        """

    @abc.abstractmethod
    async def stage_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        """Stage vectors of the target model in one transaction; return how many items took one.

        Items deleted meanwhile are skipped (not counted). Each vector MUST have the target's size and
        finite values, else nothing of the batch is written.

        Raises:
            InvalidInputError: no reindex in progress, or a vector of the wrong size or not finite.
        """

    @abc.abstractmethod
    async def finish_reindex(self) -> ReindexProgress:
        """Switch every item to its staged vector, record the target in meta, in one transaction.

        Concurrent writers MUST NOT slip an item in between the completeness check and the switch.
        The vector index (pgvector HNSW) MUST be rebuilt for the new size. Vectors of the old model kept
        for rollbacks (the namespace change log) MUST be forgotten in the same transaction, so a memory
        restored later comes back without a vector rather than with one of another model. Afterwards no
        reindex is in progress and no vector is staged.

        Raises:
            InvalidInputError: no reindex in progress.
            ConflictError: items without a staged vector exist (added since they were listed): stage them
                and call again. Nothing changed.
        """

    @abc.abstractmethod
    async def reindex_progress(self) -> ReindexProgress | None:
        """The unfinished reindex (target, items, staged so far), or ``None`` when none is in progress."""

    @abc.abstractmethod
    async def unembedded_batch(self, *, limit: int = 64) -> list[ReindexItem]:
        """Up to ``limit`` items whose search document has no live vector, oldest first.

        The embedding queue: a write that stores an item without a vector (``add_memory``/``append_event``
        with ``embedding=None``) has queued it, durably, in its own transaction.

        Raises:
            InvalidInputError: a bad ``limit`` (1..1000).
        """

    @abc.abstractmethod
    async def fill_embeddings(self, embeddings: Sequence[StagedEmbedding]) -> int:
        """Give the live vector to each item that still has none, in one transaction; return how many took
        one. Items deleted or embedded meanwhile are skipped. The store's size is checked (recorded when
        it is the first vector), else nothing is written.

        Raises:
            InvalidInputError: a vector of the wrong size or not finite.
        """
