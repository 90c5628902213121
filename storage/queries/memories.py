"""``MemoryQueries``: reading and listing memories within a scope, written once for both backends."""

from __future__ import annotations

from storage.contracts.memories import MemoryRecordStore
from storage.errors import NotFoundError
from storage.memories import visible_sql
from storage.models import Memory, MemoryFilter, Page
from storage.paging import DEFAULT_PAGE_SIZE
from storage.queries.reader import Reader
from storage.scope import Scope

__all__ = ["MemoryQueries"]


class MemoryQueries(Reader, MemoryRecordStore):
    """``MemoryRecordStore``'s reads: one visible memory, and the filtered, paged listing (newest first)."""

    async def get_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        p = self.PARAMS()
        row = await self._fetch_one(visible_sql(p, memory_id, scope), p.values)
        if row is None:
            raise NotFoundError("memory", memory_id)
        return self.ROWS.memory(row)

    async def list_memories(
        self,
        filters: MemoryFilter,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Memory]:
        p = self.PARAMS()
        p.require(*p.memory_conditions(filters, scope))
        return await self._newest_first("memories", "memory_id", p, cursor, limit, self.ROWS.memory)
