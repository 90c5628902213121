"""The change bus: writes announce "the resource at this URI changed"; subscribers hear it.

Every service write publishes the resource URIs it changed, after the write committed::

    await ctx.changes.publish(room_uri(room_id), room_events_uri(room_id))

Anyone may publish their own URIs the same way (e.g. an agent's inbox): ``Service.changes.publish(uri)``
is the public API, and the MCP server turns every published URI into ``notifications/resources/updated``
for the clients subscribed to it whose own read of it changed (``mcp_memory.watches``: a change a
subscriber cannot see never reaches it).

Publishing delivers to this process's listeners at once and hands the URIs to the store's change feed
(``MemoryStore.publish_changes``), which carries them to the other server processes on the same
database (PostgreSQL ``LISTEN``/``NOTIFY``; SQLite: Unix datagram sockets between the processes of one
machine sharing the file). Events are level
triggers without data ("re-read it"), delivered at most once: a publish that fails to reach other
processes is logged, never raised, because the write it reports has already committed. When the store's
feed was interrupted and is back, listeners hear ``storage.RESYNC_TOPIC`` ("*"): re-read everything.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from storage import ChangeFeedStore, StorageError

__all__ = [
    "ChangeBus",
    "UriListener",
    "escalation_uri",
    "identity_uri",
    "memory_uri",
    "namespace_memories_uri",
    "room_events_uri",
    "room_uri",
    "task_uri",
]

logger = logging.getLogger("mcp_memory.changes")

#: Called with each changed URI; runs on the event loop, MUST NOT block or raise.
UriListener = Callable[[str], None]


def room_uri(room_id: str) -> str:
    """``memory://rooms/{room_id}``: the room and its conversation state."""
    return f"memory://rooms/{room_id}"


def room_events_uri(room_id: str) -> str:
    """``memory://rooms/{room_id}/events``: the room's timeline."""
    return f"memory://rooms/{room_id}/events"


def task_uri(task_id: str) -> str:
    """``memory://tasks/{task_id}``."""
    return f"memory://tasks/{task_id}"


def escalation_uri(escalation_id: str) -> str:
    """``memory://escalations/{escalation_id}``."""
    return f"memory://escalations/{escalation_id}"


def identity_uri(identity_id: str) -> str:
    """``memory://identities/{identity_id}``: a person and their addresses."""
    return f"memory://identities/{identity_id}"


def memory_uri(memory_id: str) -> str:
    """``memory://memories/{memory_id}``."""
    return f"memory://memories/{memory_id}"


def namespace_memories_uri(namespace: str) -> str:
    """``memory://namespaces/{namespace}/memories``: a namespace's newest memories (changes on remember,
    forget, rollback and merge)."""
    return f"memory://namespaces/{namespace}/memories"


class ChangeBus:
    """Fan-out of changed resource URIs to listeners in this process and, through the store, in others."""

    def __init__(self, store: ChangeFeedStore) -> None:
        self._store = store
        self._listeners: dict[object, UriListener] = {}
        self.cross_process = False

    async def publish(self, *uris: str) -> None:
        """Announce that the resources at ``uris`` changed (call after the change committed).

        Listeners of this process hear it before this returns; other processes on the same database
        hear it through the store's change feed. Never raises for a feed failure (logged instead).
        """
        if not uris:
            return
        for uri in dict.fromkeys(uris):
            self.deliver(uri)
        try:
            await self._store.publish_changes(uris)
        except StorageError as exc:
            logger.warning("could not announce %d change(s) to other processes: %s", len(uris), exc.message)

    def subscribe(self, listener: UriListener) -> Callable[[], None]:
        """Call ``listener(uri)`` for every change from now on; returns an idempotent unsubscribe."""
        token = object()
        self._listeners[token] = listener

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    def deliver(self, uri: str) -> None:
        """Hand ``uri`` to this process's listeners only (the feed calls this for remote changes)."""
        for listener in list(self._listeners.values()):
            try:
                listener(uri)
            except Exception:  # fan-out boundary: one bad listener must not starve the others
                logger.exception("change listener raised; continuing")

    @asynccontextmanager
    async def following(self) -> AsyncIterator[ChangeBus]:
        """Deliver changes published by other processes while the block runs (the service's lifetime)."""
        async with self._store.follow_changes(self.deliver) as active:
            self.cross_process = active
            try:
                yield self
            finally:
                self.cross_process = False
