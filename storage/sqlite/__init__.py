"""SQLite backend of ``storage``: one file in WAL mode, FTS5 for lexical search, sqlite-vec for vectors.

``SQLiteStore.open("sqlite:///path/memory.db")`` returns an opened, migrated store (usually reached through
``storage.open_store``).
"""

from __future__ import annotations

from storage.sqlite.store import SQLiteOptions, SQLiteStore

__all__ = ["SQLiteOptions", "SQLiteStore"]
