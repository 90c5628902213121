"""Memory records: long-term knowledge, its filters, search requests and hits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from storage.indexing import SENDER_BOOST
from storage.models.common import MetadataValue, Namespace, Sensitivity, Tag, UtcDatetime, _Record
from storage.models.events import Event
from storage.models.retention import DecayRule
from storage.ranking import VECTOR_WEIGHT

__all__ = ["MAX_MEMORY_CONTENT", "Memory", "MemoryFilter", "NewMemory", "SearchHit", "SearchRequest"]


MAX_MEMORY_CONTENT = 106_711


class NewMemory(_Record):
    """A memory to store.

    ``kind`` is free text with conventional values ``note``, ``observation``, ``decision``, ``learning``,
    ``success``, ``failure``, ``pattern``, ``recommendation``. ``importance`` is in [0, 1].
    """

    namespace: Namespace
    content: str = Field(min_length=1, max_length=MAX_MEMORY_CONTENT)
    kind: str = Field(default="note", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")
    session_id: str | None = Field(default=None, max_length=128)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    metadata: dict[str, Any] = Field(default_factory=dict)
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    importance: float = Field(default=0.5, ge=0.0, le=1.0)
    author: str | None = Field(default=None, max_length=128)
    room_id: str | None = Field(default=None, max_length=128)
    task_id: str | None = Field(default=None, max_length=128)


class Memory(_Record):
    """A unit of long-term knowledge. The embedding is not part of the record."""

    memory_id: str
    namespace: str
    content: str
    kind: str
    session_id: str | None
    tags: list[str]
    metadata: dict[str, Any]
    sensitivity: Sensitivity
    importance: float
    author: str | None
    room_id: str | None
    task_id: str | None
    created_at: datetime
    updated_at: datetime


class MemoryFilter(_Record):
    """Filters shared by listing and search; every field narrows (AND). Empty lists mean "no filter".

    ``tags``: the memory carries every one of them. ``metadata``: top-level keys equal to these scalar
    values. ``created_after``/``created_before``: half-open ``[after, before)`` on the item's time
    (``created_at`` of a memory, ``occurred_at`` of an event). ``task_id``: memories recorded for that
    task. ``authors``: written by one of them; ``exclude_authors``: not written by any of them (a memory
    without author is kept), e.g. "what others observed".
    """

    namespaces: list[str] = Field(default_factory=list, max_length=64)
    session_id: str | None = None
    room_id: str | None = None
    task_id: str | None = Field(default=None, max_length=128)
    authors: list[str] = Field(default_factory=list, max_length=32)
    exclude_authors: list[str] = Field(default_factory=list, max_length=32)
    kinds: list[str] = Field(default_factory=list, max_length=32)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    created_after: UtcDatetime | None = None
    created_before: UtcDatetime | None = None
    max_sensitivity: Sensitivity | None = None


class SearchRequest(MemoryFilter):
    """A hybrid search: ``query`` text, the filters of ``MemoryFilter``, and ranking knobs.

    ``include_events`` adds room events (their content, type and room) to the candidates; filters that only
    memories carry (namespaces, session, kinds, tags) exclude events when set. ``half_life_hours`` turns on
    recency decay (score times 0.5 ** (age / half-life)); ``importance_weight`` scales memories by
    ``1 + weight * importance``. ``vector_weight``: weight of the vector candidates' reciprocal ranks
    against 1.0 for the lexical ones (``storage.ranking.VECTOR_WEIGHT``). ``sender_boost``: events whose
    sender the query names score ``1 + sender_boost`` times more (``storage.indexing.SENDER_BOOST``).
    recency decay (score times 0.5 ** (age / half-life)); ``decay_rules`` add per-namespace decay of
    memories (``storage.ranking.decay_factor``; the service fills them from the retention config);
    ``importance_weight`` scales memories by
    ``1 + weight * importance``.
    """

    query: str = Field(min_length=1, max_length=4_000)
    limit: int = Field(default=10, ge=1, le=100)
    include_memories: bool = True
    include_events: bool = False
    half_life_hours: float | None = Field(default=None, gt=0)
    importance_weight: float = Field(default=0.0, ge=0.0, le=10.0)
    vector_weight: float = Field(default=VECTOR_WEIGHT, ge=0.0, le=10.0)
    sender_boost: float = Field(default=SENDER_BOOST, ge=0.0, le=10.0)
    now: UtcDatetime | None = None
    decay_rules: list[DecayRule] = Field(default_factory=list, max_length=64)


class SearchHit(_Record):
    """One ranked search result.

    ``score``: fused reciprocal-rank score after decay and importance, higher is better.
    ``lexical_rank`` / ``vector_rank``: 1-based rank in each candidate list, ``None`` if absent there.
    Exactly one of ``memory`` / ``event`` is set, matching ``item_type``.
    """

    item_type: Literal["memory", "event"]
    item_id: str
    score: float
    lexical_rank: int | None = None
    vector_rank: int | None = None
    memory: Memory | None = None
    event: Event | None = None
