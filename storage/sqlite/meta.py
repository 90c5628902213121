"""Store-level settings (the ``meta`` table) and the embedding size they record: ``SQLiteMeta``."""

from __future__ import annotations

import apsw

from storage.errors import InvalidInputError
from storage.sqlite.core import SQLiteCore
from storage.sqlite.rows import fetch_one

__all__ = ["EMBEDDING_DIMENSIONS_KEY", "SQLiteMeta", "check_embedding_size", "get_meta", "set_meta"]

#: Meta key holding the size of every embedding in the store, set by the first embedding written.
EMBEDDING_DIMENSIONS_KEY = "embedding_dimensions"


def get_meta(conn: apsw.Connection, key: str) -> str | None:
    """Return a setting, or ``None`` when unset."""
    row = fetch_one(conn, "SELECT value FROM meta WHERE key = ?", (key,))
    return None if row is None else str(row["value"])


def set_meta(conn: apsw.Connection, key: str, value: str) -> None:
    """Set a setting (upsert)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def check_embedding_size(conn: apsw.Connection, size: int, configured: int | None, *, record: bool) -> None:
    """Check an embedding's size against the store's; record it when it is the first (and ``record``).

    Args:
        size: the embedding's number of dimensions.
        configured: ``embedding_dimensions`` given to ``open`` (used until the store records one).
        record: write the size to ``meta`` when none is recorded (writes); ``False`` for searches.

    Raises:
        InvalidInputError: the size differs from the recorded (or configured) one.
    """
    recorded = get_meta(conn, EMBEDDING_DIMENSIONS_KEY)
    expected = int(recorded) if recorded is not None else configured
    if expected is not None and size != expected:
        raise InvalidInputError(
            f"the embedding has {size} dimensions but this store holds {expected}-dimensional embeddings: "
            "use the same embedder as the rest of the store"
        )
    if recorded is None and record:
        set_meta(conn, EMBEDDING_DIMENSIONS_KEY, str(size))


class SQLiteMeta(SQLiteCore):
    """``MetaStore`` on SQLite: one ``meta`` row per setting."""

    async def get_meta(self, key: str) -> str | None:
        return await self._db.read(get_meta, key)

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.write(set_meta, key, value)
