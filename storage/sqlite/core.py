"""``SQLiteCore``: the state every area mixin of ``SQLiteStore`` shares.

An area mixin (``SQLiteFacts``, ``SQLiteGraph``...) subclasses ``SQLiteCore`` and implements its part of
the ``MemoryStore`` contract by handing a module-level function ``fn(conn, *args)`` to
``self._db.write`` (one ``BEGIN IMMEDIATE`` transaction on the writer) or ``self._db.read`` (one read
snapshot on a reader); ``Database`` runs it in a worker thread. ``SQLiteStore`` composes the mixins.
"""

from __future__ import annotations

import secrets

from storage.contracts.store import MemoryStore
from storage.sqlite.connection import Database

__all__ = ["SQLiteCore"]


class SQLiteCore(MemoryStore):
    """Base of ``SQLiteStore``: the file's connections and the configured embedding size."""

    backend = "sqlite"

    def __init__(self, db: Database, embedding_dimensions: int | None) -> None:
        """Wrap an opened ``Database``.

        Args:
            db: the file's connections (opened and migrated).
            embedding_dimensions: the configured embedding size, used until the store records one.
        """
        self._db = db
        self._dims = embedding_dimensions
        #: Identifies this instance in the change feed, so its own followers skip its topics.
        self._origin = secrets.token_hex(8)
