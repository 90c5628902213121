"""Memories on PostgreSQL (``PostgresMemories``): store and delete (reads: ``storage.queries.memories``).

Every add and delete is appended to the namespace's change log (``changelog``) in the same transaction,
after taking the namespace's head lock first. The rules and the reading statements are
``storage.memories``'; this module holds the writes and the driver calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage.errors import NotFoundError
from storage.memories import check_memory_delete, new_memory_record, visible_sql
from storage.models import Memory, NewMemory
from storage.postgres import changelog
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.queries.memories import MemoryQueries
from storage.scope import Scope
from storage.text import lexical_text

__all__ = ["PostgresMemories"]


class PostgresMemories(MemoryQueries, PostgresCore):
    """Memories and their search documents, always written together (the reads are ``MemoryQueries``)."""

    async def add_memory(
        self, memory: NewMemory, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> Memory:
        """Store a memory and its search document (and embedding) in one transaction.

        Raises:
            PermissionDeniedError: namespace not writable in ``scope`` or sensitivity above its clearance.
            InvalidInputError: the embedding's size differs from the store's.
        """
        created = new_memory_record(memory, scope)
        blob = await self._encode(embedding)
        async with self._transaction() as conn:
            seq = await changelog.bump(conn, created.namespace)  # the namespace lock comes first
            await self._insert_memory(conn, created, blob)
            actor = scope.agent if scope is not None else created.author
            await changelog.record_memory_add(conn, created, actor, seq=seq)
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

    async def delete_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        """Delete a memory and its search document.

        Raises:
            NotFoundError: no such memory visible in the scope.
            PermissionDeniedError: visible but its namespace is not writable in the scope.
        """
        p = PostgresParams()
        async with self._transaction() as conn:
            namespace = await conn.fetchval(visible_sql(p, memory_id, scope, "namespace"), *p.values)
            if namespace is None:
                raise NotFoundError("memory", memory_id)
            check_memory_delete(memory_id, namespace, scope)
            seq = await changelog.bump(conn, namespace)  # the namespace lock comes first
            p = PostgresParams()
            row = await conn.fetchrow(visible_sql(p, memory_id, scope) + " FOR UPDATE", *p.values)
            if row is None:  # deleted by a writer that held the namespace lock before us
                raise NotFoundError("memory", memory_id)
            memory = ROWS.memory(row)
            await self._remove_memory(conn, memory, scope.agent if scope is not None else None, seq=seq)
        return memory
