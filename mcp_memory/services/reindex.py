"""Re-embed every memory and event with the configured embedder (``mcp-memory reindex``).

Resumable and atomic (``storage.contracts.reindex``): new vectors are staged beside the live ones in
batches, one transaction per batch; an interrupted run resumes from what was staged when started again
with the same embedder; the switch to the new vectors and the new model's record is one transaction.
Searches and writes keep working during the run; a server whose embedder no longer matches the store
falls back to lexical search (``EmbeddingGate``) until it runs with the recorded model again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp_memory.embeddings import Embedder
from mcp_memory.services.embedding import document_text
from mcp_memory.services.sealing import ContentSealer
from storage import ConflictError, MemoryStore
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.models import StagedEmbedding

__all__ = ["ReindexReport", "reindex"]

MAX_FINISH_ATTEMPTS = 5
"""Rounds of "stage what was added meanwhile, then switch" before giving up on a busy store."""

Progress = Callable[[int, int], None]
"""Called with ``(staged, items)`` after each batch."""


@dataclass(frozen=True)
class ReindexReport:
    """What a reindex did: the model before and after, items re-embedded, wall time in seconds."""

    previous_model: str | None
    previous_dimensions: int | None
    model: str
    dimensions: int
    items: int
    resumed: int
    seconds: float


async def reindex(
    store: MemoryStore,
    embedder: Embedder,
    *,
    sealer: ContentSealer | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> ReindexReport:
    """Re-embed every memory and event of ``store`` with ``embedder`` and switch the store to it.

    Args:
        store: an open store (either backend).
        embedder: the new embedder; its ``name`` is recorded as the store's model.
        sealer: opens confidential content sealed at rest (``services.sealing``) so its vector is of the
            plain text, as the write paths embed it; ``None`` opens nothing and so refuses sealed items.
        batch_size: items per embedder call and per staging transaction (1..1000).
        progress: called with ``(staged, items)`` after every batch (e.g. a rich progress bar).

    Returns:
        The report; ``resumed`` counts vectors staged by an earlier, interrupted run and kept.

    Raises:
        EmbedderUnavailableError: the embedder failed (staged vectors are kept: run again to resume).
        StorageError: the store failed; ConflictError when writers kept adding items through
            ``MAX_FINISH_ATTEMPTS`` rounds; PermissionDeniedError when an item is sealed and ``sealer``
            cannot open it (no key, wrong key): never is ciphertext embedded.
    """
    sealer = sealer or ContentSealer(None)
    started = time.monotonic()
    previous_model = await store.get_meta(EMBEDDING_MODEL_KEY)
    previous_dims = await store.get_meta(EMBEDDING_DIMENSIONS_KEY)
    # Learn the size from the model itself (and fail before touching the store if it cannot embed).
    dimensions = len(await embedder.embed_query("mcp-memory reindex: dimension probe"))
    begun = await store.begin_reindex(embedder.name, dimensions)
    staged, items = begun.staged, begun.items
    if progress is not None:
        progress(staged, items)
    for _ in range(MAX_FINISH_ATTEMPTS):
        after: tuple[str, str] | None = None
        while batch := await store.reindex_batch(after=after, limit=batch_size):
            # Confidential items are sealed in the store: embed their plain text, never the ciphertext.
            vectors = await embedder.embed([document_text(item) for item in sealer.reveal(batch)])
            staged += await store.stage_embeddings(
                [
                    StagedEmbedding(item_type=item.item_type, item_id=item.item_id, embedding=vector)
                    for item, vector in zip(batch, vectors, strict=True)
                ]
            )
            after = batch[-1].key
            items = max(items, staged)
            if progress is not None:
                progress(staged, items)
        try:
            final = await store.finish_reindex()
        except ConflictError:
            current = await store.reindex_progress()
            items = current.items if current is not None else items
            continue
        if progress is not None:
            progress(final.items, final.items)
        return ReindexReport(
            previous_model=previous_model,
            previous_dimensions=int(previous_dims) if previous_dims else None,
            model=embedder.name,
            dimensions=dimensions,
            items=final.items,
            resumed=begun.staged,
            seconds=time.monotonic() - started,
        )
    raise ConflictError(
        f"items kept arriving during {MAX_FINISH_ATTEMPTS} rounds of reindexing: run it again at a quieter "
        "time (staged vectors are kept)"
    )
