"""Records of retention and decay: decay rules applied in search ranking, and what pruning removed.

Decay lowers an old memory's search score by a factor that depends on its age and its namespace's rule
(``storage.ranking.decay_factor``); pruning deletes memories a namespace's retention rule no longer keeps
(expired by time-to-live, or beyond ``max_memories``, least important then oldest first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DecayRule", "DecayStrategy", "NamespaceCount", "PruneReason", "PrunedMemory"]

#: ``exponential``: ``0.5 ** (age / half_life)``; ``logarithmic``: ``1 / (1 + log2(1 + age / half_life))``.
DecayStrategy = Literal["exponential", "logarithmic"]
#: Why a memory was pruned: past its namespace's time-to-live, or beyond its ``max_memories``.
PruneReason = Literal["expired", "over_limit"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecayRule(_Record):
    """Decay of memories whose namespace matches ``namespace_pattern`` (``*`` is the only wildcard)."""

    namespace_pattern: str = Field(min_length=1, max_length=128)
    strategy: DecayStrategy
    half_life_hours: float = Field(gt=0)


class NamespaceCount(_Record):
    """How many memories a namespace holds, and when its oldest was created."""

    namespace: str
    memories: int
    oldest_at: datetime


class PrunedMemory(_Record):
    """A memory removed (or, in a dry run, that would be removed) by pruning, and why."""

    memory_id: str
    namespace: str
    kind: str
    importance: float
    created_at: datetime
    reason: PruneReason
