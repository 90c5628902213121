"""Change feed of the SQLite backend (``SQLiteFeed``): topics between the processes sharing one database file.

SQLite is one machine, so the feed uses Unix datagram sockets instead of database writes (no extra
transaction or fsync per change, no polling). Every follower binds a socket in a folder named after the
database file's resolved path (``<tempdir>/mcpmem-<sha256[:16]>/``, mode 0700; socket paths are short
because Unix socket paths are limited to ~100 bytes); a publisher sends one datagram
``{"origin", "topics"}`` to every socket there except its own store's. A socket nobody reads any more
(a crashed process) refuses the datagram and is removed. Delivery is at most once: a datagram that does
not fit the receiver's buffer is dropped (logged), like a missed ``NOTIFY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from storage.contracts.changes import TopicListener, check_topics
from storage.sqlite.core import SQLiteCore

__all__ = ["SQLiteFeed", "feed_folder"]

logger = logging.getLogger("storage.sqlite")

#: Bytes of topics per datagram (well under the default Unix datagram limit of ~200 kB).
_MAX_DATAGRAM_BYTES = 60_000


def feed_folder(db_path: Path) -> Path:
    """The folder holding the feed sockets of the database at ``db_path`` (one per resolved path)."""
    digest = hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mcpmem-{digest}"


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, origin: str, listener: TopicListener) -> None:
        self._origin = origin
        self._listener = listener

    def datagram_received(self, data: bytes, addr: object) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("origin") == self._origin:
            return
        for topic in message.get("topics") or ():
            if isinstance(topic, str):
                try:
                    self._listener(topic)
                except Exception:  # a listener must not break the receiving protocol
                    logger.exception("change topic listener raised")


class SQLiteFeed(SQLiteCore):
    """``ChangeFeedStore`` on SQLite: ``publish_changes`` / ``follow_changes`` over Unix datagram sockets."""

    async def publish_changes(self, topics: Sequence[str]) -> None:
        """Send ``topics`` to the followers of other store instances on this file (never raises for them).

        Raises:
            InvalidInputError: a topic is empty or too long.
        """
        check_topics(topics)
        folder = feed_folder(self._db.path)
        if not topics or not folder.is_dir():
            return
        datagrams = _datagrams(self._origin, list(dict.fromkeys(topics)))
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.setblocking(False)
            for target in folder.glob("*.sock"):
                if target.name.startswith(self._origin):
                    continue
                for datagram in datagrams:
                    try:
                        sender.sendto(datagram, str(target))
                    except (ConnectionRefusedError, FileNotFoundError):
                        with contextlib.suppress(OSError):
                            target.unlink()  # its process is gone
                        break
                    except (BlockingIOError, OSError) as exc:
                        logger.warning("dropped a change datagram for %s: %s", target.name, exc)

    def follow_changes(self, listener: TopicListener) -> AbstractAsyncContextManager[bool]:
        """Call ``listener(topic)`` for topics other store instances on this file publish (yields ``True``)."""
        return self._follow(listener)

    @asynccontextmanager
    async def _follow(self, listener: TopicListener) -> AsyncIterator[bool]:
        folder = feed_folder(self._db.path)
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{self._origin}-{os.getpid()}-{secrets.token_hex(2)}.sock"
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self._origin, listener), local_addr=str(path), family=socket.AF_UNIX
        )
        try:
            yield True
        finally:
            transport.close()
            with contextlib.suppress(OSError):
                path.unlink()


def _datagrams(origin: str, topics: list[str]) -> list[bytes]:
    out: list[bytes] = []
    batch: list[str] = []
    size = 0
    for topic in topics:
        if batch and size + len(topic) + 4 > _MAX_DATAGRAM_BYTES:
            out.append(json.dumps({"origin": origin, "topics": batch}).encode())
            batch, size = [], 0
        batch.append(topic)
        size += len(topic.encode()) + 4
    if batch:
        out.append(json.dumps({"origin": origin, "topics": batch}).encode())
    return out
