"""Records of re-embedding a store with another model (``storage.contracts.reindex``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from storage.models.events import Event
from storage.models.memories import Memory

__all__ = ["ReindexItem", "ReindexProgress", "StagedEmbedding"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReindexProgress(_Record):
    """A reindex towards ``model``: ``items`` searchable items in the store, ``staged`` of them done."""

    model: str
    dimensions: int
    items: int
    staged: int


class ReindexItem(_Record):
    """One item to re-embed; exactly one of ``memory`` / ``event`` is set, matching ``item_type``.

    ``sender``: for an event, its ``storage.indexing.sender_label`` (sender identity's display name, else
    its first address, else the writing agent), as the backends index it; ``None`` for a memory.
    """

    item_type: Literal["memory", "event"]
    item_id: str
    memory: Memory | None = None
    event: Event | None = None
    sender: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``(item_type, item_id)``: the paging key of ``ReindexStore.reindex_batch``."""
        return (self.item_type, self.item_id)


class StagedEmbedding(_Record):
    """The new vector of one item: ``embedding`` is float32[dimensions], L2-normalised."""

    item_type: Literal["memory", "event"]
    item_id: str
    embedding: list[float] = Field(min_length=1)
