"""Memories: writing them (with their search document), reading, deleting and listing within a scope.

Each memory has one ``search_docs`` row written and deleted in the same transaction; triggers keep the
FTS5 index (``search_fts``) in step with it. Every add and delete is appended to the namespace's change
log (``changelog``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from storage.errors import NotFoundError, PermissionDeniedError
from storage.models import Memory, MemoryFilter, NewMemory, Page, new_id, utc_now
from storage.paging import decode_cursor
from storage.scope import Scope
from storage.sqlite import changelog
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.meta import check_embedding_size
from storage.sqlite.rows import fetch_all, fetch_one, make_page, memory_from_row, pack_embedding, to_json, ts
from storage.text import lexical_text

__all__ = ["add_memory", "delete_memory", "get_memory", "insert_memory", "list_memories", "remove_memory"]


def add_memory(
    conn: apsw.Connection,
    memory: NewMemory,
    embedding: Sequence[float] | None,
    scope: Scope | None,
    configured_dimensions: int | None,
) -> Memory:
    """Insert a memory and its search document.

    Raises:
        PermissionDeniedError: namespace not writable, or sensitivity above the scope's clearance.
        InvalidInputError: embedding size differs from the store's; metadata not JSON.
    """
    if scope is not None:
        if not scope.can_write(memory.namespace):
            raise PermissionDeniedError(
                f"namespace {memory.namespace!r} is not writable by {scope.agent!r}: write to one of "
                f"{', '.join(scope.write_namespaces) or 'no namespace'}"
            )
        if memory.sensitivity.level > scope.max_sensitivity.level:
            raise PermissionDeniedError(
                f"sensitivity {memory.sensitivity.value!r} is above the clearance of {scope.agent!r} "
                f"({scope.max_sensitivity.value})"
            )
    blob = None
    if embedding is not None:
        blob = pack_embedding(embedding)
        check_embedding_size(conn, len(blob) // 4, configured_dimensions, record=True)
    now = utc_now()
    record = Memory(
        memory_id=new_id("mem"),
        namespace=memory.namespace,
        content=memory.content,
        kind=memory.kind,
        session_id=memory.session_id,
        tags=list(memory.tags),
        metadata=memory.metadata,
        sensitivity=memory.sensitivity,
        importance=memory.importance,
        author=memory.author,
        room_id=memory.room_id,
        task_id=memory.task_id,
        created_at=now,
        updated_at=now,
    )
    insert_memory(conn, record, blob)
    changelog.record_memory_add(conn, record, scope.agent if scope is not None else memory.author)
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
        " sensitivity_level, importance, author, room_id, task_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            memory.memory_id,
            memory.namespace,
            memory.content,
            memory.kind,
            memory.session_id,
            tags,
            metadata,
            memory.sensitivity.value,
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
        " sensitivity_level, importance, item_at, text, embedding)"
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
    where = SQLiteParams(memory_id)
    where.require(*where.memory_conditions(MemoryFilter(), scope, "m"))
    row = fetch_one(
        conn, f"SELECT * FROM memories AS m WHERE m.memory_id = ? AND {where.sql()}", where.values
    )
    if row is None:
        raise NotFoundError("memory", memory_id)
    return memory_from_row(row)


def get_memory(conn: apsw.Connection, memory_id: str, scope: Scope | None) -> Memory:
    """Return a memory visible in the scope. Raises: NotFoundError."""
    return _visible(conn, memory_id, scope)


def delete_memory(conn: apsw.Connection, memory_id: str, scope: Scope | None) -> Memory:
    """Delete a memory and its search document. Raises: NotFoundError, PermissionDeniedError."""
    memory = _visible(conn, memory_id, scope)
    if scope is not None and not scope.can_write(memory.namespace):
        raise PermissionDeniedError(
            f"memory {memory_id!r} is in namespace {memory.namespace!r}, which {scope.agent!r} may read "
            "but not write"
        )
    remove_memory(conn, memory, scope.agent if scope is not None else None)
    return memory


def list_memories(
    conn: apsw.Connection, filters: MemoryFilter, limit: int, cursor: str | None, scope: Scope | None
) -> Page[Memory]:
    """Memories matching the filters in the scope, newest first by ``(created_at, memory_id)``.

    Raises:
        InvalidInputError: bad cursor.
    """
    where = SQLiteParams()
    where.require(*where.memory_conditions(filters, scope, "m"))
    if cursor is not None:
        at, last_id = decode_cursor(cursor, 2)
        where.require(f"(m.created_at, m.memory_id) < ({where.add(at)}, {where.add(last_id)})")
    rows = fetch_all(
        conn,
        f"SELECT * FROM memories AS m WHERE {where.sql()}"
        f" ORDER BY m.created_at DESC, m.memory_id DESC LIMIT {where.add(limit + 1)}",
        where.values,
    )
    return make_page(rows, limit, memory_from_row, "created_at", "memory_id")
