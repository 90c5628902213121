"""Cross-process change notifications over PostgreSQL ``LISTEN``/``NOTIFY``.

Every write that changes a room (event appended, state changed, handoff, metadata, closed), a task, an
escalation or a memory calls ``notify_change`` inside its transaction; PostgreSQL delivers the notice to
every listening connection, in every process, when (and only if) the transaction commits.
Payload: JSON ``{"kind", "id", "room_id"?, "schema"}`` on channel ``mcp_memory_changes`` (well under
the 8000-byte payload limit of ``NOTIFY``). Delivery is at most once: a listener that was disconnected
misses notices, so consumers re-read state after reconnecting.

The change feed of ``storage.contracts.changes`` rides the same channel: ``publish_topics`` sends
``{"kind": "topics", "topics": [...], "schema", "origin"}`` after the caller's write committed, and
``follow_topics`` hands every topic of another ``origin`` (another store instance) to a listener.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from storage.contracts.changes import TopicListener
from storage.postgres.errors import map_driver_errors

__all__ = [
    "CHANNEL",
    "ChangeKind",
    "ChangeNotice",
    "ChangeSubscription",
    "follow_topics",
    "notify_change",
    "publish_topics",
]

logger = logging.getLogger("storage.postgres")

#: The NOTIFY channel shared by every mcp-memory process on one database.
CHANNEL = "mcp_memory_changes"

ChangeKind = Literal["room", "event", "task", "escalation", "memory", "fact"]


@dataclass(frozen=True)
class ChangeNotice:
    """One committed change: ``kind`` of item, its ``id``, and the room it belongs to when it has one."""

    kind: str
    id: str
    room_id: str | None = None


async def notify_change(
    conn: asyncpg.Connection, schema: str, kind: ChangeKind, item_id: str, room_id: str | None = None
) -> None:
    """Queue a notice in the current transaction (sent on commit, dropped on rollback)."""
    payload: dict[str, Any] = {"kind": kind, "id": item_id, "schema": schema}
    if room_id is not None:
        payload["room_id"] = room_id
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, json.dumps(payload))


class ChangeSubscription:
    """Notices of committed changes made by any process on the store's schema, in commit order.

    Use ``async with store.subscribe_changes() as changes:``; listening starts when the block is entered
    (changes committed after that are delivered), and its dedicated connection closes on exit. Read with
    ``await changes.get()`` or ``async for notice in changes``.
    """

    def __init__(
        self, dsn: str, schema: str, connect_kwargs: dict[str, Any], max_queue: int = 10_000
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._connect_kwargs = connect_kwargs
        self._queue: asyncio.Queue[ChangeNotice] = asyncio.Queue(maxsize=max_queue)
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> ChangeSubscription:
        with map_driver_errors():
            self._conn = await asyncpg.connect(self._dsn, **self._connect_kwargs)
            await self._conn.add_listener(CHANNEL, self._on_notify)
        return self

    async def __aexit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with map_driver_errors():
                await conn.close()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            logger.warning("ignored a malformed change notice")
            return
        if not isinstance(data, dict) or data.get("schema") != self._schema or data.get("kind") == "topics":
            return
        notice = ChangeNotice(kind=str(data.get("kind")), id=str(data.get("id")), room_id=data.get("room_id"))
        try:
            self._queue.put_nowait(notice)
        except asyncio.QueueFull:
            logger.warning("change notice queue is full; dropped a notice for %s %s", notice.kind, notice.id)

    async def get(self) -> ChangeNotice:
        """Wait for the next notice (bound the wait with ``anyio.fail_after``/``asyncio.timeout``)."""
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[ChangeNotice]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChangeNotice]:
        while True:
            yield await self._queue.get()


#: Bytes of topic text per NOTIFY (the payload limit is 8000 bytes; JSON framing needs the rest).
_TOPIC_BYTES_PER_NOTICE = 7000


async def publish_topics(conn: asyncpg.Connection, schema: str, origin: str, topics: Sequence[str]) -> None:
    """Send ``topics`` to every follower of ``schema`` (one ``NOTIFY`` per ~7 kB of topics)."""
    batch: list[str] = []
    size = 0
    for topic in dict.fromkeys(topics):
        if batch and size + len(topic.encode()) > _TOPIC_BYTES_PER_NOTICE:
            await _notify_topics(conn, schema, origin, batch)
            batch, size = [], 0
        batch.append(topic)
        size += len(topic.encode()) + 4
    if batch:
        await _notify_topics(conn, schema, origin, batch)


async def _notify_topics(conn: asyncpg.Connection, schema: str, origin: str, topics: list[str]) -> None:
    payload = {"kind": "topics", "topics": topics, "schema": schema, "origin": origin}
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, json.dumps(payload))


@asynccontextmanager
async def follow_topics(
    dsn: str, schema: str, origin: str, listener: TopicListener, connect_kwargs: dict[str, Any]
) -> AsyncIterator[bool]:
    """Call ``listener(topic)`` for every topic published on ``schema`` by another ``origin``.

    Listens on a dedicated connection (not from the pool), closed on exit. A lost connection is logged
    (topics are missed until the follower is opened again).

    Raises:
        BackendUnavailableError: the connection cannot be opened.
    """

    def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if (
            not isinstance(data, dict)
            or data.get("kind") != "topics"
            or data.get("schema") != schema
            or data.get("origin") == origin
        ):
            return
        for topic in data.get("topics") or ():
            if isinstance(topic, str):
                try:
                    listener(topic)
                except Exception:  # a listener must not break the connection's notification loop
                    logger.exception("change topic listener raised")

    def on_lost(_conn: object) -> None:
        logger.warning("the change feed connection closed; changes from other processes are missed")

    with map_driver_errors():
        conn = await asyncpg.connect(dsn, **connect_kwargs)
    try:
        with map_driver_errors():
            await conn.add_listener(CHANNEL, on_notify)
        conn.add_termination_listener(on_lost)
        yield True
    finally:
        conn.remove_termination_listener(on_lost)
        if not conn.is_closed():
            with map_driver_errors():
                await conn.close()
