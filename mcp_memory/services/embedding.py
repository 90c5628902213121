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

Writes may leave embedding to the background (``deferred``, config ``embedder.deferred``, issue 15): the
write commits its item without a vector, which queues it durably in the same transaction (the store's
``unembedded_batch``), so it is findable lexically at once, and ``drain`` embeds the queue in batches of
up to ``DRAIN_BATCH`` items (the writes of concurrent callers share one model call), woken by each write
and every ``DRAIN_POLL_SECONDS`` (items queued by other processes or before a restart). The delay until an
item is findable by vector is the time to embed the batches queued before it (about 0.2 s per 32 items
with the local model on 2 cores), plus at most ``DRAIN_POLL_SECONDS`` for another process's writes whose
server stopped before draining.

What gets embedded is ``document_text`` (a memory's content, an event's indexed head): the reindex uses
it and it matches the write paths, so a store re-embedded from scratch holds exactly the vectors its
writes would have made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import anyio

from mcp_memory.embeddings import Embedder
from storage import MemoryStore
from storage.contracts.reindex import EMBEDDING_MODEL_KEY
from storage.indexing import event_head
from storage.models import NewMemory, ReindexItem, StagedEmbedding

__all__ = ["DRAIN_BATCH", "DRAIN_POLL_SECONDS", "MODEL_KEY", "EmbeddingGate", "document_text"]

_log = logging.getLogger(__name__)

MODEL_KEY = EMBEDDING_MODEL_KEY

#: Items embedded per model call by ``drain`` (the local model's batch size).
DRAIN_BATCH = 32
#: Seconds between looks at the queue when no write of this process woke the drain.
DRAIN_POLL_SECONDS = 5.0
#: Seconds to wait after a failed drain round (the embedder or the store failed; logged).
DRAIN_RETRY_SECONDS = 5.0


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

    def __init__(self, embedder: Embedder | None, *, deferred: bool = False) -> None:
        self.embedder = embedder
        self.deferred = deferred and embedder is not None
        self._wake = anyio.Event()
        self._store: MemoryStore | None = None
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

    async def bind(self, store: MemoryStore) -> None:
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

    async def embed_for_write(self, text: str) -> list[float] | None:
        """The vector to store with a write: ``None`` when ``deferred`` (then call ``queued`` after the
        write) or lexical only, else ``embed_document(text)``."""
        if self.deferred:
            return None
        return await self.embed_document(text)

    def queued(self) -> None:
        """A write of this process committed an item without a vector: wake ``drain``."""
        self._wake.set()

    async def drain(self, reveal: Callable[[list[ReindexItem]], list[ReindexItem]]) -> None:
        """Embed the store's queue until cancelled (run for the service's lifetime when ``deferred``).

        ``reveal`` opens sealed confidential content, so vectors are of the plain text, as writes make.
        """
        while True:  # the first round runs at once: items queued before a restart
            try:
                while await self._drain_batch(reveal):
                    pass
            except Exception:  # the write already committed; the item waits in the queue
                _log.exception("embedding queued items failed; retrying in %s s", DRAIN_RETRY_SECONDS)
                await anyio.sleep(DRAIN_RETRY_SECONDS)
            with anyio.move_on_after(DRAIN_POLL_SECONDS):
                await self._wake.wait()
            self._wake = anyio.Event()

    async def _drain_batch(self, reveal: Callable[[list[ReindexItem]], list[ReindexItem]]) -> bool:
        """Embed one batch of the queue; False when it is empty or vectors cannot be made now."""
        if self._store is None or self.embedder is None or not await self._active():
            return False
        items = await self._store.unembedded_batch(limit=DRAIN_BATCH)
        if not items:
            return False
        vectors: Sequence[list[float]] = await self.embedder.embed([document_text(i) for i in reveal(items)])
        await self._store.fill_embeddings(
            [
                StagedEmbedding(item_type=i.item_type, item_id=i.item_id, embedding=v)
                for i, v in zip(items, vectors, strict=True)
            ]
        )
        return True

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
