"""The change feed of the PostgreSQL backend (``PostgresNotify``): topics over ``LISTEN``/``NOTIFY``.

``storage.contracts.changes``: ``publish_changes`` sends ``{"kind": "topics", "topics": [...], "schema",
"origin"}`` on channel ``mcp_memory_changes`` after the caller's write committed (one ``NOTIFY`` per ~7 kB
of topics: the payload limit is 8000 bytes), and ``follow_changes`` hands every topic of another
``origin`` (another store instance) on the same schema to a listener. PostgreSQL delivers a notice to
every listening connection, in every process. Delivery is at most once: a follower that was disconnected
misses topics, so consumers re-read state after reconnecting.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg

from storage.contracts.changes import TopicListener, check_topics
from storage.postgres.core import PostgresCore
from storage.postgres.errors import map_driver_errors

__all__ = ["CHANNEL", "PostgresNotify"]

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


@asynccontextmanager
async def _follow_topics(
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
