"""The MemoryRecordStore contract. Memories: add, read, delete, list by filters, hybrid search.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.models import (
    Memory,
    MemoryFilter,
    NewMemory,
    Page,
    SearchHit,
    SearchRequest,
)
from storage.paging import DEFAULT_PAGE_SIZE
from storage.scope import Scope

__all__ = ["MemoryRecordStore"]


class MemoryRecordStore(abc.ABC):
    """Memories: add, read, delete, list by filters, hybrid search."""

    @abc.abstractmethod
    async def add_memory(
        self, memory: NewMemory, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> Memory:
        """Store a memory (and its embedding: float32[dimensions], L2-normalised).

        The addition MUST be appended to the namespace's change log in the same transaction
        (``VersionStore``).

        Raises:
            PermissionDeniedError: the namespace is not writable in ``scope``, or the sensitivity is above
                its clearance.
            InvalidInputError: the embedding's size differs from the store's.
        """

    @abc.abstractmethod
    async def get_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        """Return a memory. Raises: NotFoundError (also when outside the scope)."""

    @abc.abstractmethod
    async def delete_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        """Delete a memory (and its search entries) and return what was deleted.

        The deletion MUST be appended to the namespace's change log in the same transaction, with the
        memory's record and embedding, so a rollback can restore it (``VersionStore``).

        Raises:
            NotFoundError: no such memory visible in the scope.
            PermissionDeniedError: visible but its namespace is not writable in the scope.
        """

    @abc.abstractmethod
    async def list_memories(
        self,
        filters: MemoryFilter,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Memory]:
        """List memories matching ``filters`` inside the scope, newest first. Raises: InvalidInputError."""

    @abc.abstractmethod
    async def search(
        self,
        request: SearchRequest,
        query_embedding: Sequence[float] | None = None,
        *,
        scope: Scope | None = None,
    ) -> list[SearchHit]:
        """Hybrid search over memories (and events when ``request.include_events``).

        Two candidate lists are taken inside the database, each with every filter and the scope applied
        in its WHERE clause: lexical (BM25 over the text) and, when ``query_embedding`` is given, vector
        (cosine distance, exact unless an index is configured). They are fused with reciprocal rank
        fusion (``storage.ranking.fuse``: score = sum 1 / (60 + rank), Cormack et al. 2009), then
        weighted by recency and importance as the request asks. Ties break by item id, so the same data
        gives the same order on every backend.

        Returns at most ``request.limit`` hits, best first.

        Raises:
            InvalidInputError: the embedding's size differs from the store's.
        """
