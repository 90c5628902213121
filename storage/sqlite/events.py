"""Room timelines: appending events with gapless per-room indexes, reading them back.

Every function takes an apsw connection already inside a transaction (``Database.write``/``read``).
Writes run under ``BEGIN IMMEDIATE``: the room's ``last_event_index`` is read and bumped while this
process holds the database write lock, so indexes stay monotonic and gapless across processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from storage.errors import NotFoundError
from storage.indexing import (
    CONTEXT_AFTER,
    CONTEXT_BEFORE,
    EventText,
    event_head,
    sender_label,
    window_documents,
)
from storage.models import AppendResult, Event, NewEvent, Visibility, new_id, utc_now
from storage.models.events import check_event_clearance
from storage.models.rooms import check_room_open, check_room_writable
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.meta import check_embedding_size
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, from_ts, pack_embedding, to_json, ts
from storage.text import lexical_text

__all__ = ["SQLiteEvents", "append_event", "room_row"]

#: Importance given to events in search (they carry none of their own); see ``storage.ranking.Candidate``.
EVENT_IMPORTANCE = 0.5


def room_row(conn: apsw.Connection, room_id: str, scope: Scope | None = None) -> dict[str, Any]:
    """Return a room's row, if its namespace is readable in ``scope``. Raises: NotFoundError."""
    readable, params = SQLiteParams.readable_clause("namespace", scope)
    row = fetch_one(conn, f"SELECT * FROM rooms WHERE room_id = ? AND {readable}", (room_id, *params))
    if row is None:
        raise NotFoundError("room", room_id)
    return row


def append_event(
    conn: apsw.Connection,
    event: NewEvent,
    embedding: Sequence[float] | None,
    configured_dimensions: int | None,
    scope: Scope | None = None,
) -> AppendResult:
    """Append ``event`` (see ``MemoryStore.append_event``); the caller holds ``BEGIN IMMEDIATE``.

    Raises:
        NotFoundError: no such room (or not readable in ``scope``).
        PermissionDeniedError: the room's namespace is not writable in ``scope``, or the event's
            sensitivity is above its clearance.
        ConflictError: the room is closed.
        InvalidInputError: the embedding's size differs from the store's, or metadata is not JSON.
    """
    room = room_row(conn, event.room_id, scope)
    check_room_writable(event.room_id, room["namespace"], scope)
    check_event_clearance(event.sensitivity, scope)
    if event.idempotency_key is not None:
        # Checked before the closed state: a retry of an event written before closing still succeeds.
        first = fetch_one(
            conn,
            "SELECT * FROM events WHERE room_id = ? AND idempotency_key = ?",
            (event.room_id, event.idempotency_key),
        )
        if first is not None:
            return AppendResult(event=ROWS.event(first), created=False)
    check_room_open(event.room_id, room["status"])
    blob = None
    if embedding is not None:
        blob = pack_embedding(embedding)
        check_embedding_size(conn, len(blob) // 4, configured_dimensions, record=True)
    now = utc_now()
    index = int(room["last_event_index"]) + 1
    event_id = new_id("evt")
    occurred_at = event.occurred_at or now
    metadata = to_json(event.metadata)
    conn.execute(
        "INSERT INTO events (event_id, room_id, idx, type, content, visibility, sensitivity,"
        " channel_type, channel_id, sender_identity_id, agent, metadata, idempotency_key, occurred_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event_id,
            event.room_id,
            index,
            event.type,
            event.content,
            event.visibility.value,
            event.sensitivity.level,
            event.source.channel_type,
            event.source.channel_id,
            event.source.sender_identity_id,
            event.source.agent,
            metadata,
            event.idempotency_key,
            ts(occurred_at),
            ts(now),
        ),
    )
    conn.execute("UPDATE rooms SET last_event_index = ? WHERE room_id = ?", (index, event.room_id))
    documents, event_ids = _window(conn, event.room_id, index)
    conn.execute(
        "INSERT INTO search_docs (item_type, item_id, namespace, session_id, room_id, kind, tags, metadata,"
        " sensitivity, importance, item_at, text, embedding)"
        " VALUES ('event', ?, ?, NULL, ?, ?, '[]', ?, ?, ?, ?, ?, ?)",
        (
            event_id,
            room["namespace"],
            event.room_id,
            event.type,
            metadata,
            event.sensitivity.level,
            EVENT_IMPORTANCE,
            ts(occurred_at),
            documents.pop(index),
            blob,
        ),
    )
    for earlier, document in documents.items():
        conn.execute(
            "UPDATE search_docs SET text = ? WHERE item_type = 'event' AND item_id = ? AND text <> ?",
            (document, event_ids[earlier], document),
        )
    row = fetch_one(conn, "SELECT * FROM events WHERE event_id = ?", (event_id,))
    assert row is not None  # inserted above, in this transaction
    return AppendResult(event=ROWS.event(row), created=True)


def _window(conn: apsw.Connection, room_id: str, index: int) -> tuple[dict[int, str], dict[int, str]]:
    """Lexical texts to write after appending event ``index`` (``storage.indexing.window_documents``) and
    the event ids by index."""
    rows = fetch_all(
        conn,
        "SELECT e.event_id, e.idx, e.content, e.occurred_at, e.sensitivity, e.agent,"
        " i.display_name, (SELECT a.address FROM addresses AS a WHERE a.identity_id = e.sender_identity_id"
        " ORDER BY a.addr_seq LIMIT 1) AS address"
        " FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
        " WHERE e.room_id = ? AND e.idx BETWEEN ? AND ?",
        (room_id, index - CONTEXT_AFTER - CONTEXT_BEFORE, index),
    )
    texts = []
    for r in rows:
        at = from_ts(r["occurred_at"])
        sender = sender_label(r["display_name"], r["address"], r["agent"])
        # Sealed confidential text stays out of the lexical index (storage.text.lexical_text).
        head = event_head(lexical_text(r["content"]), sender=sender, occurred_at=at)
        texts.append(EventText(r["idx"], at, r["sensitivity"], head))
    return window_documents(texts, index), {r["idx"]: r["event_id"] for r in rows}


def get_event(conn: apsw.Connection, event_id: str, scope: Scope | None) -> Event:
    """Return one event within the scope's clearance, in a room it may read. Raises: NotFoundError."""
    ceiling = 2 if scope is None else scope.max_sensitivity.level
    readable, params = SQLiteParams.readable_clause("r.namespace", scope)
    row = fetch_one(
        conn,
        "SELECT e.* FROM events AS e JOIN rooms AS r ON r.room_id = e.room_id"
        f" WHERE e.event_id = ? AND e.sensitivity <= ? AND {readable}",
        (event_id, ceiling, *params),
    )
    if row is None:
        raise NotFoundError("event", event_id)
    return ROWS.event(row)


def list_events(
    conn: apsw.Connection,
    room_id: str,
    limit: int,
    after_index: int | None,
    before_index: int | None,
    visibility: Sequence[Visibility] | None,
    types: Sequence[str] | None,
    scope: Scope | None,
) -> list[Event]:
    """List a room's events ascending by index (see ``MemoryStore.list_events``). Raises: NotFoundError."""
    room_row(conn, room_id, scope)
    where = ["room_id = ?"]
    params: list[Any] = [room_id]
    if after_index is not None:
        where.append("idx > ?")
        params.append(after_index)
    if before_index is not None:
        where.append("idx < ?")
        params.append(before_index)
    if visibility:
        where.append(f"visibility IN ({', '.join('?' * len(visibility))})")
        params.extend(Visibility(v).value for v in visibility)
    if types:
        where.append(f"type IN ({', '.join('?' * len(types))})")
        params.extend(types)
    if scope is not None:
        where.append("sensitivity <= ?")
        params.append(scope.max_sensitivity.level)
    # before_index alone: the events just before it, so scan downwards and reverse.
    descending = before_index is not None and after_index is None
    order = "DESC" if descending else "ASC"
    params.append(clamp_limit(limit))
    rows = fetch_all(
        conn, f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY idx {order} LIMIT ?", params
    )
    events = [ROWS.event(r) for r in rows]
    if descending:
        events.reverse()
    return events


class SQLiteEvents(SQLiteCore):
    """``EventStore`` on SQLite: a room's timeline, indexed for search in the appending transaction."""

    async def append_event(
        self, event: NewEvent, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> AppendResult:
        return await self._db.write(append_event, event, embedding, self._dims, scope)

    async def get_event(self, event_id: str, *, scope: Scope | None = None) -> Event:
        return await self._db.read(get_event, event_id, scope)

    async def list_events(
        self,
        room_id: str,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        after_index: int | None = None,
        before_index: int | None = None,
        visibility: Sequence[Visibility] | None = None,
        types: Sequence[str] | None = None,
        scope: Scope | None = None,
    ) -> list[Event]:
        return await self._db.read(
            list_events, room_id, limit, after_index, before_index, visibility, types, scope
        )
