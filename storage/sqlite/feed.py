"""Change feed of the SQLite backend (``SQLiteFeed``): topics between the processes sharing one database file.

SQLite is one machine, so the feed uses Unix datagram sockets instead of database writes (no extra
transaction or fsync per change, no polling). Every follower binds a socket in a folder of its own user,
named after the database file's resolved path: ``<tempdir>/mcpmem-<uid>/<sha256[:16]>/`` (socket paths
are short because Unix socket paths are limited to ~100 bytes). A publisher sends one datagram
``{"origin", "topics"}`` to every socket there except its own store's. A socket nobody reads any more
(a crashed process) refuses the datagram and is removed. A receiver's queue is short (Linux
``net.unix.max_dgram_qlen``, 10 by default), so a sender finding it full retries for up to
``_RETRY_SECONDS``; if it is still full, the datagram is dropped and the sender creates
``<socket>.lost``: the follower checks for it every ``_LOST_POLL_SECONDS`` and then hands its listener
``RESYNC_TOPIC`` ("re-read everything you follow"), so a loss is never silent.

Only the server's user can reach the sockets: both folders are created with mode 0700 and, before any
socket is bound in them or any datagram is sent there, checked with ``lstat`` (never following a
symlink) to be directories owned by this process's user with no access for group or others
(``private_folder``). A folder that fails the check (another local user created it first, or a symlink)
disables the feed with one error in the log, never sends a topic to it. The per-database folder, and the
per-user one when empty, are removed when their last follower leaves.
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
import stat
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from storage.contracts.changes import RESYNC_TOPIC, TopicListener, check_topics
from storage.sqlite.core import SQLiteCore

__all__ = ["SQLiteFeed", "UnsafeFeedFolder", "feed_folder", "private_folder"]

logger = logging.getLogger("storage.sqlite")

#: Bytes of topics per datagram (well under the default Unix datagram limit of ~200 kB).
_MAX_DATAGRAM_BYTES = 60_000
#: How long a sender retries a full receiver queue before dropping (seconds), and its pause between tries.
_RETRY_SECONDS = 0.05
_RETRY_PAUSE_SECONDS = 0.002
#: How often a follower looks for its ``.lost`` marker (seconds): the longest a loss goes unnoticed.
_LOST_POLL_SECONDS = 0.5


class UnsafeFeedFolder(Exception):
    """A feed folder exists but is not private to this user (owner, mode, or a symlink)."""


def feed_folder(db_path: Path) -> Path:
    """The folder holding the feed sockets of the database at ``db_path`` (one per user and resolved path)."""
    digest = hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mcpmem-{os.getuid()}" / digest


def private_folder(folder: Path, *, create: bool) -> bool:
    """Check (and with ``create``, make) ``folder`` and its parent as folders only this user can reach.

    Returns:
        True when both are private directories; False when they do not exist (and ``create`` is False).

    Raises:
        UnsafeFeedFolder: one exists but is a symlink, not a directory, owned by another user, or open to
            group or others.
    """
    for path in (folder.parent, folder):
        if create:
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o700)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return False
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise UnsafeFeedFolder(f"{path} is not a directory (a symlink or a file)")
        if info.st_uid != os.getuid():
            raise UnsafeFeedFolder(f"{path} belongs to uid {info.st_uid}, not to this user ({os.getuid()})")
        if info.st_mode & 0o077:
            raise UnsafeFeedFolder(f"{path} has mode {stat.S_IMODE(info.st_mode):o}; it must be 700")
    return True


def _remove_if_empty(folder: Path) -> None:
    """Remove the per-database folder, then the per-user one, when nothing is left in them."""
    for path in (folder, folder.parent):
        try:
            os.rmdir(path)
        except OSError:
            return  # another follower's socket (or database folder) is still there


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
        if not topics:
            return
        try:
            if not private_folder(folder, create=False):
                return
        except UnsafeFeedFolder as exc:
            logger.error("change feed disabled: %s", exc)
            return
        datagrams = _datagrams(self._origin, list(dict.fromkeys(topics)))
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.setblocking(False)
            for target in folder.glob("*.sock"):
                if target.name.startswith(self._origin):
                    continue
                for datagram in datagrams:
                    if not await _send(sender, datagram, target):
                        break

    def follow_changes(self, listener: TopicListener) -> AbstractAsyncContextManager[bool]:
        """Call ``listener(topic)`` for topics other store instances on this file publish (yields ``True``)."""
        return self._follow(listener)

    @asynccontextmanager
    async def _follow(self, listener: TopicListener) -> AsyncIterator[bool]:
        folder = feed_folder(self._db.path)
        path = folder / f"{self._origin}-{os.getpid()}-{secrets.token_hex(2)}.sock"
        loop = asyncio.get_running_loop()
        transport: asyncio.BaseTransport | None = None
        for _attempt in range(3):  # a last follower may remove the folder between our mkdir and bind
            try:
                private_folder(folder, create=True)
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Receiver(self._origin, listener), local_addr=str(path), family=socket.AF_UNIX
                )
                break
            except UnsafeFeedFolder as exc:
                logger.error("change feed disabled (other processes' changes will not be heard): %s", exc)
                break
            except FileNotFoundError:
                continue
        if transport is None:
            yield False
            return
        lost = path.with_name(path.name + ".lost")

        async def watch_losses() -> None:
            while True:
                await asyncio.sleep(_LOST_POLL_SECONDS)
                if lost.exists():
                    with contextlib.suppress(OSError):
                        lost.unlink()
                    try:
                        listener(RESYNC_TOPIC)
                    except Exception:  # a listener must not stop the watch
                        logger.exception("change topic listener raised")

        watcher = asyncio.ensure_future(watch_losses())
        try:
            yield True
        finally:
            watcher.cancel()
            transport.close()
            for leftover in (path, lost):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            _remove_if_empty(folder)


async def _send(sender: socket.socket, datagram: bytes, target: Path) -> bool:
    """Send one datagram to ``target``; False when the target is gone (its socket is then removed).

    A full queue is retried for ``_RETRY_SECONDS``; then the datagram is dropped and ``<target>.lost``
    created, which tells that follower to re-read (``RESYNC_TOPIC``).
    """
    deadline = asyncio.get_running_loop().time() + _RETRY_SECONDS
    while True:
        try:
            sender.sendto(datagram, str(target))
            return True
        except (ConnectionRefusedError, FileNotFoundError):
            _remove(target)  # its process is gone
            return False
        except BlockingIOError:
            if asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(_RETRY_PAUSE_SECONDS)
                continue
            reason = "its queue stayed full"
        except OSError as exc:
            reason = str(exc)
        logger.warning("dropped a change datagram for %s (%s): it will re-read", target.name, reason)
        _mark_lost(target)
        return True


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _mark_lost(target: Path) -> None:
    with contextlib.suppress(OSError):
        target.with_name(target.name + ".lost").touch()


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
