"""Contract of the change feed: telling OTHER processes on the same database that something changed.

A *topic* is an opaque string naming what changed (the server uses resource URIs such as
``memory://rooms/room_1/events``; storage never interprets it). Topics are level triggers: "this changed,
re-read it if you care". Delivery is at most once and carries no data: a follower that was disconnected
misses topics and re-reads state after reconnecting.

``MemoryStore`` inherits ``ChangeFeedStore``. Backends shared by many processes SHOULD override both
methods (PostgreSQL: ``LISTEN``/``NOTIFY``; SQLite: Unix datagram sockets between the processes of one
machine); the defaults keep a store process-local (publishing reaches nobody, following yields
``False``), which is correct for a single process.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from storage.errors import InvalidInputError

__all__ = ["MAX_TOPIC_CHARS", "RESYNC_TOPIC", "ChangeFeedStore", "TopicListener", "check_topics"]

#: Longest topic accepted (PostgreSQL ``NOTIFY`` payloads must stay under 8000 bytes).
MAX_TOPIC_CHARS = 1000

#: Delivered by a feed that lost topics on their way to this follower (a full socket queue, a listening
#: connection that was lost and is back): "some change you follow may have been missed: re-read everything
#: you follow". Publishing it means the same.
RESYNC_TOPIC = "*"

#: Called once per topic received from another process; MUST NOT block or raise.
TopicListener = Callable[[str], None]


class ChangeFeedStore(abc.ABC):  # noqa: B024 (a mixin of MemoryStore: defaults, no abstract methods)
    """Cross-process change topics (see the module docstring)."""

    async def publish_changes(self, topics: Sequence[str]) -> None:
        """Announce ``topics`` to the followers of OTHER store instances on the same database.

        MUST NOT be delivered to this instance's own followers (the caller delivers locally itself).
        SHOULD be called after the change committed. The default does nothing (single process).

        Raises:
            InvalidInputError: a topic is empty or longer than ``MAX_TOPIC_CHARS``.
        """
        check_topics(topics)

    def follow_changes(self, listener: TopicListener) -> AbstractAsyncContextManager[bool]:
        """Call ``listener(topic)`` for every topic other store instances publish while the block runs.

        The context value says whether a cross-process feed is active (``False``: this backend has none,
        the listener will never be called). Listening starts when the block is entered; ``listener`` runs
        on the event loop, MUST NOT block and MUST NOT raise. A backend whose feed can be interrupted (a
        lost connection) MUST reconnect by itself, with backoff, while the block runs, and then call
        ``listener(RESYNC_TOPIC)``. The default yields ``False``.

        Raises:
            BackendUnavailableError: the feed's connection cannot be opened.
        """
        return _no_feed()


def check_topics(topics: Sequence[str]) -> None:
    """Raise ``InvalidInputError`` unless every topic has 1..``MAX_TOPIC_CHARS`` characters."""
    for topic in topics:
        if not topic or len(topic) > MAX_TOPIC_CHARS:
            raise InvalidInputError(f"a change topic must have 1..{MAX_TOPIC_CHARS} characters")


@asynccontextmanager
async def _no_feed() -> AsyncIterator[bool]:
    yield False
