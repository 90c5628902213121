"""Memories on SQLite (``SQLiteMemories``): each written with its search document, in one transaction.

Each memory has one ``search_docs`` row written and deleted in the same transaction; triggers keep the
FTS5 index (``search_fts``) in step with it. Every add and delete is appended to the namespace's change
log (``changelog``) in the same transaction. The rules and the reading statements are
``storage.memories``'; this module holds the writes and the driver calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from storage.errors import NotFoundError
from storage.memories import check_memory_delete, new_memory_record, visible_sql
from storage.models import Memory, NewMemory
from storage.queries.memories import MemoryQueries
from storage.scope import Scope
from storage.sqlite import changelog
from storage.sqlite.core import SQLiteCore
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.meta import check_embedding_size
from storage.sqlite.rows import ROWS, fetch_one, pack_embedding, to_json, ts
from storage.text import lexical_text

__all__ = ["SQLiteMemories", "insert_memory", "remove_memory"]


def _add_memory(
    conn: apsw.Connection,
    memory: NewMemory,
    embedding: Sequence[float] | None,
    scope: Scope | None,
    configured_dimensions: int | None,
) -> Memory:
    record = new_memory_record(memory, scope)
    blob = None
    if embedding is not None:
        blob = pack_embedding(embedding)
        check_embedding_size(conn, len(blob) // 4, configured_dimensions, record=True)
    insert_memory(conn, record, blob)
    changelog.record_memory_add(conn, record, scope.agent if scope is not None else record.author)
    return _visible(conn, record.memory_id, None)


def insert_memory(conn: apsw.Connection, memory: Memory, blob: bytes | None) -> None:
    """Insert a memory record as it is (id, timestamps) with its search document; no change-log entry.

    Used by ``add_memory`` and to restore or copy memories (rollback, branch, merge).

    Raises:
        InvalidInputError: metadata or tags not JSON.
    """
    tags = to_json(list(memory.tags), "tags")
    metadata = to_json(memory.metadata)
    created = ts(memory.created_at)
    conn.execute(
        "INSERT INTO memories (memory_id, namespace, content, kind, session_id, tags, metadata, sensitivity,"
        " importance, author, room_id, task_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            memory.memory_id,
            memory.namespace,
            memory.content,
            memory.kind,
            memory.session_id,
            tags,
            metadata,
            memory.sensitivity.level,
            memory.importance,
            memory.author,
            memory.room_id,
            memory.task_id,
            created,
            ts(memory.updated_at),
        ),
    )
    conn.execute(
        "INSERT INTO search_docs (item_type, item_id, namespace, session_id, room_id, kind, tags, metadata,"
        " sensitivity, importance, item_at, text, embedding)"
        " VALUES ('memory', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            memory.memory_id,
            memory.namespace,
            memory.session_id,
            memory.room_id,
            memory.kind,
            tags,
            metadata,
            memory.sensitivity.level,
            memory.importance,
            created,
            lexical_text(memory.content),
            blob,
        ),
    )


def remove_memory(conn: apsw.Connection, memory: Memory, actor: str | None) -> None:
    """Delete a memory and its search document, logging it (record and embedding) for a rollback."""
    row = fetch_one(
        conn,
        "SELECT embedding FROM search_docs WHERE item_type = 'memory' AND item_id = ?",
        (memory.memory_id,),
    )
    changelog.record_memory_delete(conn, memory, None if row is None else row["embedding"], actor)
    conn.execute("DELETE FROM search_docs WHERE item_type = 'memory' AND item_id = ?", (memory.memory_id,))
    conn.execute("DELETE FROM memories WHERE memory_id = ?", (memory.memory_id,))


def _visible(conn: apsw.Connection, memory_id: str, scope: Scope | None) -> Memory:
    p = SQLiteParams()
    row = fetch_one(conn, visible_sql(p, memory_id, scope), p.values)
    if row is None:
        raise NotFoundError("memory", memory_id)
    return ROWS.memory(row)


def _delete_memory(conn: apsw.Connection, memory_id: str, scope: Scope | None) -> Memory:
    memory = _visible(conn, memory_id, scope)
    check_memory_delete(memory_id, memory.namespace, scope)
    remove_memory(conn, memory, scope.agent if scope is not None else None)
    return memory


class SQLiteMemories(MemoryQueries, SQLiteCore):
    """``MemoryRecordStore``'s writes on SQLite (the reads are ``MemoryQueries``, ``search``
    ``SQLiteSearch``'s)."""

    async def add_memory(
        self, memory: NewMemory, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> Memory:
        return await self._db.write(_add_memory, memory, embedding, scope, self._dims)

    async def delete_memory(self, memory_id: str, *, scope: Scope | None = None) -> Memory:
        return await self._db.write(_delete_memory, memory_id, scope)
