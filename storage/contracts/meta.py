"""The MetaStore contract. Store-level settings (``meta``): embedding model and size, and the like.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc

__all__ = ["MetaStore"]


class MetaStore(abc.ABC):
    """Store-level settings (``meta``): embedding model and size, and the like."""

    @abc.abstractmethod
    async def get_meta(self, key: str) -> str | None:
        """Return a store-level setting (e.g. ``embedding_model``), or ``None`` when unset."""

    @abc.abstractmethod
    async def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting (upsert)."""
