"""Store-level settings (the ``meta`` table) on PostgreSQL: ``PostgresMeta``."""

from __future__ import annotations

from storage.postgres.core import DIMENSIONS_KEY, PostgresCore, parse_dimensions

__all__ = ["PostgresMeta"]


class PostgresMeta(PostgresCore):
    """``MetaStore`` on PostgreSQL: one ``meta`` row per setting."""

    async def get_meta(self, key: str) -> str | None:
        """Return a store-level setting, or ``None`` when unset."""
        async with self._connection() as conn:
            value = await conn.fetchval("SELECT value FROM meta WHERE key = $1", key)
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting (upsert).

        Raises:
            InvalidInputError: ``key`` is ``embedding_dimensions`` and differs from the recorded size.
        """
        if key == DIMENSIONS_KEY:
            await self._ensure_dimensions(parse_dimensions(value))
            return
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
                key,
                value,
            )
