"""Memories: store, read, delete, list (search lives in ``search.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from storage.base import DEFAULT_PAGE_SIZE, Scope, clamp_limit, decode_cursor, encode_cursor, isoformat
from storage.errors import NotFoundError, PermissionDeniedError
from storage.models import Memory, MemoryFilter, NewMemory, Page, new_id, utc_now
from storage.postgres.core import PostgresCore
from storage.postgres.filters import Params, memory_conditions
from storage.postgres.rooms import parse_time
from storage.postgres.rows import memory_from_row

__all__ = ["MemoriesMixin", "visible_memory_sql"]


def visible_memory_sql(scope: Scope, p: Params) -> str:
    """Conditions making a memory visible to ``scope`` (readable namespace, within clearance)."""
    conds = memory_conditions(MemoryFilter(), scope, p)
    return " AND ".join(conds) if conds else "TRUE"


class MemoriesMixin(PostgresCore):
    """Memories and their search documents, always written together."""

    async def add_memory(
        self, memory: NewMemory, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> Memory:
        """Store a memory and its search document (and embedding) in one transaction.

        Raises:
            PermissionDeniedError: namespace not writable in ``scope`` or sensitivity above its clearance.
            InvalidInputError: the embedding's size differs from the store's.
        """
        author = memory.author or (scope.agent if scope is not None else None)
        scope = scope or Scope.unrestricted()
        if not scope.can_write(memory.namespace):
            raise PermissionDeniedError(f"namespace {memory.namespace!r} is not writable by {scope.agent!r}")
        if memory.sensitivity.level > scope.max_sensitivity.level:
            raise PermissionDeniedError(
                f"{scope.agent!r} may not write {memory.sensitivity} memories"
                f" (clearance {scope.max_sensitivity})"
            )
        blob = await self._encode(embedding)
        now = utc_now()
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO memories (memory_id, namespace, content, kind, session_id, tags, metadata,"
                " sensitivity, importance, author, room_id, task_id, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *",
                new_id("mem"),
                memory.namespace,
                memory.content,
                memory.kind,
                memory.session_id,
                list(memory.tags),
                memory.metadata,
                memory.sensitivity.level,
                memory.importance,
                author,
                memory.room_id,
                memory.task_id,
                now,
            )
            created = memory_from_row(row)
            await self._put_search_doc(
                conn,
                item_type="memory",
                item_id=created.memory_id,
                namespace=created.namespace,
                session_id=created.session_id,
                room_id=created.room_id,
                kind=created.kind,
                tags=created.tags,
                metadata=created.metadata,
                sensitivity=created.sensitivity.level,
                importance=created.importance,
                item_at=created.created_at,
                body=created.content,
                embedding=blob,
            )
            await self._notify(conn, "memory", created.memory_id, created.room_id)
        return created

    async def get_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        """Return a memory. Raises: NotFoundError (also when outside the scope)."""
        p = Params(memory_id)
        visible = visible_memory_sql(scope or Scope.unrestricted(), p)
        async with self._connection() as conn:
            row = await conn.fetchrow(f"SELECT * FROM memories WHERE memory_id = $1 AND {visible}", *p.values)
        if row is None:
            raise NotFoundError("memory", memory_id)
        return memory_from_row(row)

    async def delete_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        """Delete a memory and its search document.

        Raises:
            NotFoundError: no such memory visible in the scope.
            PermissionDeniedError: visible but its namespace is not writable in the scope.
        """
        scope = scope or Scope.unrestricted()
        p = Params(memory_id)
        visible = visible_memory_sql(scope, p)
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                f"SELECT * FROM memories WHERE memory_id = $1 AND {visible} FOR UPDATE", *p.values
            )
            if row is None:
                raise NotFoundError("memory", memory_id)
            memory = memory_from_row(row)
            if not scope.can_write(memory.namespace):
                raise PermissionDeniedError(
                    f"namespace {memory.namespace!r} is not writable by {scope.agent!r}"
                )
            await conn.execute(
                "DELETE FROM search_docs WHERE item_type = 'memory' AND item_id = $1", memory_id
            )
            await conn.execute("DELETE FROM memories WHERE memory_id = $1", memory_id)
            await self._notify(conn, "memory", memory_id, memory.room_id)
        return memory

    async def list_memories(
        self,
        filters: MemoryFilter,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Memory]:
        """List memories matching ``filters`` inside the scope, newest first. Raises: InvalidInputError."""
        size = clamp_limit(limit)
        p = Params()
        conds = memory_conditions(filters, scope or Scope.unrestricted(), p)
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            conds.append(f"(created_at, memory_id) < ({p.add(parse_time(at))}, {p.add(str(last_id))})")
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        limit_sql = p.add(size + 1)
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM memories {where} ORDER BY created_at DESC, memory_id DESC LIMIT {limit_sql}",
                *p.values,
            )
        items = [memory_from_row(r) for r in rows[:size]]
        next_cursor = (
            encode_cursor(isoformat(items[-1].created_at), items[-1].memory_id) if len(rows) > size else None
        )
        return Page[Memory](items=items, next_cursor=next_cursor)
