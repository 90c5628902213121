"""The service's view of the embedder: optional, lazily loaded, and pinned to one model per store.

A store remembers the embedder that wrote its vectors (meta keys ``embedding_model`` and
``embedding_dimensions``); opening it with another embedder is refused so vectors of two models are never
mixed in one ranking.
"""

from __future__ import annotations

from mcp_memory.embeddings import Embedder
from storage import MemoryStore, SchemaVersionError

__all__ = ["EmbeddingGate"]

MODEL_KEY = "embedding_model"


class EmbeddingGate:
    """Wraps an optional embedder. With ``None`` (config ``embedder.provider = "none"``) search is lexical."""

    def __init__(self, embedder: Embedder | None) -> None:
        self.embedder = embedder

    @property
    def model(self) -> str:
        """Name of the active model, or ``"none"``."""
        return self.embedder.name if self.embedder is not None else "none"

    async def bind(self, store: MemoryStore) -> None:
        """Record the embedder in a new store, or check it matches the one already recorded.

        Raises:
            SchemaVersionError: the store's vectors were made by another model.
        """
        if self.embedder is None:
            return
        recorded = await store.get_meta(MODEL_KEY)
        if recorded is None:
            await store.set_meta(MODEL_KEY, self.embedder.name)
        elif recorded != self.embedder.name:
            raise SchemaVersionError(
                f"this store's vectors were made by embedder {recorded!r} but the config selects "
                f"{self.embedder.name!r}: switch the config back, or re-embed everything with the new model"
            )

    def start_warmup(self) -> None:
        """Begin loading the model in the background (never blocks)."""
        if self.embedder is not None:
            self.embedder.start_warmup()

    async def embed_document(self, text: str) -> list[float] | None:
        """Embedding of a stored text (float32[dimensions], unit length), or ``None`` without embedder."""
        if self.embedder is None:
            return None
        return (await self.embedder.embed([text]))[0]

    async def embed_query(self, text: str) -> list[float] | None:
        """Embedding of a search query, or ``None`` without embedder."""
        if self.embedder is None:
            return None
        return await self.embedder.embed_query(text)

    async def aclose(self) -> None:
        """Release the model."""
        if self.embedder is not None:
            await self.embedder.aclose()
