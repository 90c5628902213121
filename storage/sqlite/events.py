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
from storage.models import AppendResult, NewEvent, new_id, utc_now
from storage.models.events import check_event_clearance
from storage.models.rooms import check_room_open, check_room_writable
from storage.queries.events import EventQueries, window_plan
from storage.scope import Scope
from storage.sqlite.core import SQLITE, SQLiteCore, run_sqlite_plan
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.meta import check_embedding_size
from storage.sqlite.rows import ROWS, fetch_one, pack_embedding, to_json, ts

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
    documents, event_ids = run_sqlite_plan(conn, window_plan(SQLITE, event.room_id, index))
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


class SQLiteEvents(EventQueries, SQLiteCore):
    """``EventStore``'s append on SQLite: a room's timeline, indexed for search in the appending transaction
    (the reads are ``EventQueries``)."""

    async def append_event(
        self, event: NewEvent, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> AppendResult:
        return await self._db.write(append_event, event, embedding, self._dims, scope)
