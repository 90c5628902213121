"""Memories: store, read, delete, list (search lives in ``search.py``).

Every add and delete is appended to the namespace's change log (``changelog``) in the same transaction,
after taking the namespace's head lock first.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage.errors import NotFoundError, PermissionDeniedError
from storage.models import Memory, MemoryFilter, NewMemory, Page, new_id, utc_now
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor, encode_cursor, isoformat
from storage.postgres import changelog
from storage.postgres.core import PostgresCore
from storage.postgres.filters import Params, memory_conditions
from storage.postgres.rooms import parse_time
from storage.postgres.rows import memory_from_row
from storage.scope import Scope
from storage.text import lexical_text

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
        created = Memory(
            memory_id=new_id("mem"),
            namespace=memory.namespace,
            content=memory.content,
            kind=memory.kind,
            session_id=memory.session_id,
            tags=list(memory.tags),
            metadata=memory.metadata,
            sensitivity=memory.sensitivity,
            importance=memory.importance,
            author=author,
            room_id=memory.room_id,
            task_id=memory.task_id,
            created_at=now,
            updated_at=now,
        )
        async with self._transaction() as conn:
            seq = await changelog.bump(conn, created.namespace)  # the namespace lock comes first
            await self._insert_memory(conn, created, blob)
            await changelog.record_memory_add(conn, created, scope.agent, seq=seq)
        return created

    async def _insert_memory(self, conn: asyncpg.Connection, memory: Memory, blob: bytes | None) -> None:
        """Insert a memory record as it is (id, timestamps) with its search document; no change-log entry.

        Used by ``add_memory`` and to restore or copy memories (rollback, branch, merge).
        """
        await conn.execute(
            "INSERT INTO memories (memory_id, namespace, content, kind, session_id, tags, metadata,"
            " sensitivity, importance, author, room_id, task_id, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            memory.memory_id,
            memory.namespace,
            memory.content,
            memory.kind,
            memory.session_id,
            list(memory.tags),
            memory.metadata,
            memory.sensitivity.level,
            memory.importance,
            memory.author,
            memory.room_id,
            memory.task_id,
            memory.created_at,
            memory.updated_at,
        )
        await self._put_search_doc(
            conn,
            item_type="memory",
            item_id=memory.memory_id,
            namespace=memory.namespace,
            session_id=memory.session_id,
            room_id=memory.room_id,
            kind=memory.kind,
            tags=list(memory.tags),
            metadata=memory.metadata,
            sensitivity=memory.sensitivity.level,
            importance=memory.importance,
            item_at=memory.created_at,
            body=lexical_text(memory.content),
            embedding=blob,
        )

    async def _remove_memory(
        self, conn: asyncpg.Connection, memory: Memory, actor: str | None, seq: int | None = None
    ) -> None:
        """Delete a memory and its search document, logging it (record and embedding) for a rollback."""
        embedding = await conn.fetchval(
            "SELECT embedding FROM search_docs WHERE item_type = 'memory' AND item_id = $1", memory.memory_id
        )
        await changelog.record_memory_delete(conn, memory, embedding, actor, seq=seq)
        await conn.execute(
            "DELETE FROM search_docs WHERE item_type = 'memory' AND item_id = $1", memory.memory_id
        )
        await conn.execute("DELETE FROM memories WHERE memory_id = $1", memory.memory_id)

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
            namespace = await conn.fetchval(
                f"SELECT namespace FROM memories WHERE memory_id = $1 AND {visible}", *p.values
            )
            if namespace is None:
                raise NotFoundError("memory", memory_id)
            if not scope.can_write(namespace):
                raise PermissionDeniedError(f"namespace {namespace!r} is not writable by {scope.agent!r}")
            seq = await changelog.bump(conn, namespace)  # the namespace lock comes first
            row = await conn.fetchrow(
                f"SELECT * FROM memories WHERE memory_id = $1 AND {visible} FOR UPDATE", *p.values
            )
            if row is None:  # deleted by a writer that held the namespace lock before us
                raise NotFoundError("memory", memory_id)
            memory = memory_from_row(row)
            await self._remove_memory(conn, memory, scope.agent, seq=seq)
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
