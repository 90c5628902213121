"""Response budgets: keep one reply from dumping tens of thousands of tokens into an agent's context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

__all__ = ["fit_to_budget"]

M = TypeVar("M", bound=BaseModel)


def fit_to_budget(items: Sequence[M], max_chars: int) -> tuple[list[M], bool]:
    """Keep the longest prefix of ``items`` whose JSON forms add up to at most ``max_chars`` characters.

    The first item is always kept (one oversized item is still an answer). Returns ``(kept, cut)`` where
    ``cut`` says whether items were dropped; the caller then offers a cursor to continue from the last kept.
    """
    kept: list[M] = []
    used = 0
    for item in items:
        size = len(item.model_dump_json())
        if kept and used + size > max_chars:
            return kept, True
        kept.append(item)
        used += size
    return kept, False
