"""The service's view of the embedder: optional, lazily loaded, and pinned to the store's model.

A store records the model that made its vectors (meta ``embedding_model`` and ``embedding_dimensions``,
``storage.contracts.reindex``). The first embedder to use a store records itself. When the configured
embedder is another model, vectors of two models must never meet in one ranking, so the gate falls
back to lexical search: queries get no vector (``SearchResults.mode == "lexical"``) and new items are
stored without one, and a warning names the fix (``mcp-memory reindex``, or the recorded model back in
the config). The recorded model is read again before every vector use, so a reindex finished by
another process takes effect at once: a server whose embedder became the store's model goes hybrid, one
whose embedder no longer is falls back. Items stored without a vector meanwhile get one from the next
``mcp-memory reindex``.

What gets embedded is ``document_text`` (a memory's content, an event's indexed head): the reindex uses
it and it matches the write paths, so a store re-embedded from scratch holds exactly the vectors its
writes would have made.
"""

from __future__ import annotations

import logging

from mcp_memory.embeddings import Embedder
from storage import MetaStore
from storage.contracts.reindex import EMBEDDING_MODEL_KEY
from storage.indexing import event_head
from storage.models import NewMemory, ReindexItem

__all__ = ["MODEL_KEY", "EmbeddingGate", "document_text"]

_log = logging.getLogger(__name__)

MODEL_KEY = EMBEDDING_MODEL_KEY


def document_text(item: NewMemory | ReindexItem) -> str:
    """The text whose vector represents a stored item, as the write paths embed it.

    A memory: its content (``MemoryService.remember``). An event: its indexed head,
    ``storage.indexing.event_head(content, sender, occurred_at)`` (``EventService.store_event``). Used by
    ``mcp-memory reindex``; a change to what the write paths embed belongs here too, so a re-embedded
    store holds exactly the vectors its writes would have made.
    """
    if isinstance(item, NewMemory):
        return item.content
    if item.event is not None:
        return event_head(item.event.content, sender=item.sender, occurred_at=item.event.occurred_at)
    assert item.memory is not None
    return item.memory.content


class EmbeddingGate:
    """Wraps an optional embedder. With ``None`` (config ``embedder.provider = "none"``) search is lexical."""

    def __init__(self, embedder: Embedder | None) -> None:
        self.embedder = embedder
        self._store: MetaStore | None = None
        self._recorded: str | None = None
        self._warned_for: str | None = None
        #: Texts handed to the embedder and not yet embedded (the ``mcp_memory_embedding_backlog`` gauge).
        self.pending = 0

    @property
    def model(self) -> str:
        """Name of the configured model, or ``"none"``."""
        return self.embedder.name if self.embedder is not None else "none"

    @property
    def status(self) -> str:
        """``active``, ``none`` (no embedder), or ``mismatch: ...`` (lexical fallback) as of the last check."""
        if self.embedder is None:
            return "none"
        if self._recorded in (None, self.embedder.name):
            return "active"
        return f"mismatch: {self._mismatch_message(self._recorded)}"

    async def bind(self, store: MetaStore) -> None:
        """Attach the store: record the embedder in a store without one, else compare with the record.

        A mismatch is not an error: the gate falls back to lexical search and logs a warning.
        """
        self._store = store
        if self.embedder is None:
            return
        recorded = await store.get_meta(MODEL_KEY)
        if recorded is None:
            await store.set_meta(MODEL_KEY, self.embedder.name)
            recorded = self.embedder.name
        self._note(recorded)

    async def _active(self) -> bool:
        """True when the configured embedder is the store's model (read again on every call)."""
        if self.embedder is None:
            return False
        if self._store is None:
            return True
        self._note(await self._store.get_meta(MODEL_KEY))
        return self._recorded in (None, self.embedder.name)

    def _note(self, recorded: str | None) -> None:
        self._recorded = recorded
        if self.embedder is None or recorded in (None, self.embedder.name):
            if self._warned_for is not None:
                _log.warning("embedder %s is the store's model again: hybrid search is back", self.model)
                self._warned_for = None
            return
        if self._warned_for != recorded:
            _log.warning("%s", self._mismatch_message(recorded))
            self._warned_for = recorded

    def _mismatch_message(self, recorded: str | None) -> str:
        return (
            f"this store's vectors were made by embedder {recorded!r} but the config selects {self.model!r}: "
            "searching lexically and storing new items without vectors until you run `mcp-memory reindex` "
            "(re-embeds everything with the configured embedder) or switch the config back"
        )

    def start_warmup(self) -> None:
        """Begin loading the model in the background (never blocks)."""
        if self.embedder is not None:
            self.embedder.start_warmup()

    async def embed_document(self, text: str) -> list[float] | None:
        """Embedding of a stored text (float32[dimensions], unit length), or ``None`` when lexical only."""
        if self.embedder is None or not await self._active():
            return None
        self.pending += 1
        try:
            return (await self.embedder.embed([text]))[0]
        finally:
            self.pending -= 1

    async def embed_query(self, text: str) -> list[float] | None:
        """Embedding of a search query, or ``None`` when lexical only (no embedder, or a mismatch)."""
        if self.embedder is None or not await self._active():
            return None
        self.pending += 1
        try:
            return await self.embedder.embed_query(text)
        finally:
            self.pending -= 1

    async def aclose(self) -> None:
        """Release the model."""
        if self.embedder is not None:
            await self.embedder.aclose()
