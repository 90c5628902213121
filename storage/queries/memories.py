"""``MemoryQueries``: reading and listing memories within a scope, written once for both backends."""

from __future__ import annotations

from storage.contracts.memories import MemoryRecordStore
from storage.errors import NotFoundError
from storage.filters import all_of
from storage.memories import visible_sql
from storage.models import Memory, MemoryFilter, Page
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor, isoformat
from storage.queries.reader import Reader, cursor_time, page_of
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
        size = clamp_limit(limit)
        p = self.PARAMS()
        conds = p.memory_conditions(filters, scope)
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            after = p.add(p.time_value(cursor_time(at)))
            conds.append(f"(created_at, memory_id) < ({after}, {p.add(str(last_id))})")
        rows = await self._fetch(
            f"SELECT * FROM memories WHERE {all_of(conds)}"
            f" ORDER BY created_at DESC, memory_id DESC LIMIT {p.add(size + 1)}",
            p.values,
        )
        return page_of(rows, size, self.ROWS.memory, _memory_key)


def _memory_key(memory: Memory) -> tuple[str, str]:
    return isoformat(memory.created_at), memory.memory_id
