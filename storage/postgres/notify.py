"""The change feed of the PostgreSQL backend (``PostgresNotify``): topics over ``LISTEN``/``NOTIFY``.

``storage.contracts.changes``: ``publish_changes`` sends ``{"kind": "topics", "topics": [...], "schema",
"origin"}`` on channel ``mcp_memory_changes`` after the caller's write committed (one ``NOTIFY`` per ~7 kB
of topics: the payload limit is 8000 bytes), and ``follow_changes`` hands every topic of another
``origin`` (another store instance) on the same schema to a listener. PostgreSQL delivers a notice to
every listening connection, in every process. Delivery is at most once: a follower whose connection was
lost reconnects by itself with backoff and then hands ``RESYNC_TOPIC`` to its listener (re-read everything).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg

from storage.contracts.changes import RESYNC_TOPIC, TopicListener, check_topics
from storage.errors import StorageError
from storage.postgres.core import PostgresCore
from storage.postgres.errors import map_driver_errors

__all__ = ["CHANNEL", "FEED_APPLICATION_NAME", "PostgresNotify"]

logger = logging.getLogger("storage.postgres")

#: The NOTIFY channel shared by every mcp-memory process on one database.
CHANNEL = "mcp_memory_changes"


#: Bytes of topic text per NOTIFY (the payload limit is 8000 bytes; JSON framing needs the rest).
_TOPIC_BYTES_PER_NOTICE = 7000


async def _publish_topics(conn: asyncpg.Connection, schema: str, origin: str, topics: Sequence[str]) -> None:
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


#: Backoff between reconnection attempts of a lost feed connection: doubling from the first to the last
#: (seconds), so a restarting database is retried quickly at first and then every half minute.
RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 30.0

#: ``application_name`` of the feed's listening connection (operators see it in ``pg_stat_activity``).
FEED_APPLICATION_NAME = "mcp-memory-feed"


class _Follower:
    """One ``LISTEN`` connection that reconnects with backoff when lost, then tells its listener to resync."""

    def __init__(
        self, dsn: str, schema: str, origin: str, listener: TopicListener, connect_kwargs: dict[str, Any]
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._origin = origin
        self._listener = listener
        self._connect_kwargs = {
            **connect_kwargs,
            "server_settings": {"application_name": FEED_APPLICATION_NAME},
        }
        self._conn: asyncpg.Connection | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closing = False

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if (
            not isinstance(data, dict)
            or data.get("kind") != "topics"
            or data.get("schema") != self._schema
            or data.get("origin") == self._origin
        ):
            return
        for topic in data.get("topics") or ():
            if isinstance(topic, str):
                self._tell(topic)

    def _tell(self, topic: str) -> None:
        try:
            self._listener(topic)
        except Exception:  # a listener must not break the connection's notification loop
            logger.exception("change topic listener raised")

    def _on_lost(self, _conn: object) -> None:
        if self._closing or self._reconnecting is not None:
            return
        logger.warning("the change feed connection was lost; reconnecting (changes meanwhile are re-read)")
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def connect(self) -> None:
        """Open the listening connection. Raises: BackendUnavailableError."""
        with map_driver_errors():
            conn = await asyncpg.connect(self._dsn, **self._connect_kwargs)
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
            except BaseException:
                await conn.close()
                raise
        conn.add_termination_listener(self._on_lost)
        self._conn = conn

    async def _reconnect(self) -> None:
        delay = RECONNECT_FIRST_SECONDS
        try:
            while not self._closing:
                try:
                    await self.connect()
                except StorageError as exc:
                    logger.warning("change feed: reconnecting in %.1f s: %s", delay, exc.message)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                    continue
                logger.warning("change feed reconnected: subscribers re-read what they follow")
                self._tell(RESYNC_TOPIC)
                return
        finally:
            self._reconnecting = None

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.remove_termination_listener(self._on_lost)
            if not conn.is_closed():
                with map_driver_errors():
                    await conn.close()


@asynccontextmanager
async def _follow_topics(
    dsn: str, schema: str, origin: str, listener: TopicListener, connect_kwargs: dict[str, Any]
) -> AsyncIterator[bool]:
    """Call ``listener(topic)`` for every topic published on ``schema`` by another ``origin``.

    Listens on a dedicated connection (not from the pool), closed on exit. A lost connection is reopened
    with backoff (``RECONNECT_FIRST_SECONDS`` doubling to ``RECONNECT_MAX_SECONDS``), then
    ``listener(RESYNC_TOPIC)`` says that topics may have been missed.

    Raises:
        BackendUnavailableError: the connection cannot be opened at first.
    """
    follower = _Follower(dsn, schema, origin, listener, connect_kwargs)
    await follower.connect()
    try:
        yield True
    finally:
        await follower.close()


class PostgresNotify(PostgresCore):
    """``ChangeFeedStore`` on PostgreSQL: topics between the store instances on one schema."""

    async def publish_changes(self, topics: Sequence[str]) -> None:
        """Send ``topics`` to the followers of other store instances on this schema (``NOTIFY``).

        Raises:
            InvalidInputError: a topic is empty or too long.
            BackendUnavailableError: the database cannot be reached.
        """
        check_topics(topics)
        if topics:
            async with self._connection() as conn:
                await _publish_topics(conn, self._schema_name, self._origin, topics)

    def follow_changes(self, listener: TopicListener) -> AbstractAsyncContextManager[bool]:
        """Call ``listener(topic)`` for topics other store instances publish (``LISTEN``; yields ``True``)."""
        return _follow_topics(self._dsn, self._schema_name, self._origin, listener, {"timeout": 10})
