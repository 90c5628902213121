"""Room timelines: appending events (gapless per-room indexes) and reading them.

Index allocation: ``UPDATE rooms SET last_event_index = last_event_index + 1 ... RETURNING`` takes the
room's row lock, so concurrent appends to one room (any connection, process or machine) run one after
another and each gets the next index; a rolled-back append releases its index with the lock, so indexes
stay gapless. The idempotency key is checked after the lock is taken (a racing retry then sees the first
event committed), and ``UNIQUE (room_id, idempotency_key)`` backs it up.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage.errors import NotFoundError
from storage.models import (
    AppendResult,
    Event,
    NewEvent,
    new_id,
    utc_now,
)
from storage.models.events import check_event_clearance
from storage.models.rooms import check_room_open, check_room_writable
from storage.postgres.core import POSTGRES, PostgresCore, run_postgres_plan
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.queries.events import EventQueries, window_plan
from storage.scope import Scope

__all__ = ["PostgresEvents", "fetch_room_row"]

#: Importance given to events in search ranking (``storage.ranking.Candidate``).
EVENT_IMPORTANCE = 0.5


async def fetch_room_row(
    conn: asyncpg.Connection, room_id: str, *, lock: bool = False, scope: Scope | None = None
) -> asyncpg.Record:
    """The ``rooms`` row of ``room_id`` if readable in ``scope`` (row-locked with ``lock``).

    Raises:
        NotFoundError: no such room, or not readable in ``scope``.
    """
    p = PostgresParams(room_id)
    readable = p.readable("namespace", scope)
    row = await conn.fetchrow(
        f"SELECT * FROM rooms WHERE room_id = $1 AND {readable}" + (" FOR UPDATE" if lock else ""), *p.values
    )
    if row is None:
        raise NotFoundError("room", room_id)
    return row


class _Existing(Exception):
    """Internal: an idempotency key matched; rolls the transaction back and carries the first event."""

    def __init__(self, event: Event) -> None:
        super().__init__("idempotent replay")
        self.event = event


class PostgresEvents(EventQueries, PostgresCore):
    """Events: append (gapless, idempotent); the reads are ``EventQueries``."""

    async def _insert_event(
        self,
        conn: asyncpg.Connection,
        event: NewEvent,
        index: int,
        embedding: bytes | None,
        namespace: str,
    ) -> Event:
        """Insert an event at ``index`` with its search document (under the room's ``namespace``), and
        queue its notice."""
        now = utc_now()
        row = await conn.fetchrow(
            "INSERT INTO events (event_id, room_id, idx, type, content, visibility, sensitivity,"
            " channel_type,"
            " channel_id, sender_identity_id, agent, metadata, idempotency_key, occurred_at, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *",
            new_id("evt"),
            event.room_id,
            index,
            event.type,
            event.content,
            str(event.visibility),
            event.sensitivity.level,
            event.source.channel_type,
            event.source.channel_id,
            event.source.sender_identity_id,
            event.source.agent,
            event.metadata,
            event.idempotency_key,
            event.occurred_at or now,
            now,
        )
        created = ROWS.event(row)
        documents, event_ids = await run_postgres_plan(conn, window_plan(POSTGRES, created.room_id, index))
        await self._put_search_doc(
            conn,
            item_type="event",
            item_id=created.event_id,
            namespace=namespace,
            session_id=None,
            room_id=created.room_id,
            kind=created.type,
            tags=[],
            metadata=created.metadata,
            sensitivity=created.sensitivity.level,
            importance=EVENT_IMPORTANCE,
            item_at=created.occurred_at,
            body=documents.pop(index),
            embedding=embedding,
        )
        for earlier, document in documents.items():
            await conn.execute(
                "UPDATE search_docs SET text = $1 WHERE item_type = 'event' AND item_id = $2 AND text <> $1",
                document,
                event_ids[earlier],
            )
        return created

    async def append_event(
        self, event: NewEvent, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> AppendResult:
        """Append an event with the room's next index (gapless under concurrency); idempotent by key.

        Raises:
            NotFoundError: no such room (readable in ``scope``).
            PermissionDeniedError: the room is not writable, or the sensitivity is above the clearance.
            ConflictError: the room is closed.
            InvalidInputError: the embedding's size differs from the store's.
        """
        blob = await self._encode(embedding)
        p = PostgresParams(event.room_id)
        readable = p.readable("namespace", scope)
        try:
            async with self._transaction() as conn:
                # A denial below raises inside the transaction: the index bump is rolled back.
                row = await conn.fetchrow(
                    "UPDATE rooms SET last_event_index = last_event_index + 1"
                    f" WHERE room_id = $1 AND {readable} RETURNING last_event_index, status, namespace",
                    *p.values,
                )
                if row is None:
                    raise NotFoundError("room", event.room_id)
                check_room_writable(event.room_id, row["namespace"], scope)
                check_event_clearance(event.sensitivity, scope)
                if event.idempotency_key is not None:
                    first = await conn.fetchrow(
                        "SELECT * FROM events WHERE room_id = $1 AND idempotency_key = $2",
                        event.room_id,
                        event.idempotency_key,
                    )
                    if first is not None:
                        raise _Existing(ROWS.event(first))
                check_room_open(event.room_id, row["status"])
                created = await self._insert_event(
                    conn, event, row["last_event_index"], blob, row["namespace"]
                )
        except _Existing as existing:
            return AppendResult(event=existing.event, created=False)
        return AppendResult(event=created, created=True)
