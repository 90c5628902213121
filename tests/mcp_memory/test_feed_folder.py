"""The SQLite change feed's sockets are reachable only by the server's user, and go away with their last
follower (issue 14, finding 10). Two servers on one SQLite file, each with its own store, talk through
the feed like two processes; their sessions are real MCP sessions."""

from __future__ import annotations

import os
import shutil
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest
from mcp import Client

from mcp_memory.config import Settings
from mcp_memory.server import build_server
from storage.sqlite.feed import feed_folder
from tests.mcp_memory.test_tools import call

pytestmark = pytest.mark.anyio


def db_path(settings: Settings) -> Path:
    return Path(settings.storage_url.removeprefix("sqlite:///"))


@pytest.fixture(autouse=True)
def no_folder_left(settings: Settings) -> Iterator[None]:
    """Remove what a test planted in the feed folder (the server removes only what it made)."""
    yield
    folder = feed_folder(db_path(settings))
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)


async def a_change_crosses(settings: Settings) -> bool:
    """Whether a write by billing's server reaches a subscriber on triage's server (through the feed)."""
    async with Client(build_server(settings, agent="triage")) as triage:
        room = await call(triage, "create_room", name="feed")
        uri = f"memory://rooms/{room['room_id']}/events"
        async with Client(build_server(settings, agent="billing")) as billing:
            with anyio.move_on_after(3):
                async with triage.listen(resource_subscriptions=[uri]) as subscription:
                    await call(billing, "store_event", room_id=room["room_id"], content="hello")
                    async for event in subscription:
                        return getattr(event, "uri", None) == uri
    return False


@contextmanager
def listening_socket(folder: Path) -> Iterator[socket.socket]:
    """Another user's socket planted in ``folder``: it must never receive a topic."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(folder / "zz-attacker.sock"))
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def received_nothing(sock: socket.socket) -> bool:
    try:
        sock.recv(65536)
    except BlockingIOError:
        return True
    return False


async def test_the_feed_folder_is_private_and_removed_with_its_last_follower(settings: Settings) -> None:
    folder = feed_folder(db_path(settings))
    assert await a_change_crosses(settings)
    assert not folder.exists()
    async with Client(build_server(settings, agent="triage")) as triage:
        await call(triage, "create_room", name="open")
        info = os.lstat(folder)
        assert stat.S_ISDIR(info.st_mode)
        assert info.st_uid == os.getuid()
        assert stat.S_IMODE(info.st_mode) == 0o700
        assert stat.S_IMODE(os.lstat(folder.parent).st_mode) == 0o700
        assert [p.suffix for p in folder.iterdir()] == [".sock"]
    assert not folder.exists()


async def test_a_folder_open_to_others_gets_no_topics(settings: Settings) -> None:
    folder = feed_folder(db_path(settings))
    folder.parent.mkdir(mode=0o700, exist_ok=True)
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o777)
    with listening_socket(folder) as planted:
        assert not await a_change_crosses(settings)
        assert received_nothing(planted)


async def test_a_symlinked_folder_is_never_followed(settings: Settings, tmp_path: Path) -> None:
    folder = feed_folder(db_path(settings))
    folder.parent.mkdir(mode=0o700, exist_ok=True)
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir(mode=0o700)
    folder.symlink_to(elsewhere, target_is_directory=True)
    try:
        with listening_socket(elsewhere) as planted:
            assert not await a_change_crosses(settings)
            assert received_nothing(planted)
        assert [p.name for p in elsewhere.iterdir()] == ["zz-attacker.sock"]  # nothing of ours in there
    finally:
        folder.unlink()


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
async def test_a_folder_of_another_user_gets_no_topics(settings: Settings) -> None:
    folder = feed_folder(db_path(settings))
    folder.parent.mkdir(mode=0o700, exist_ok=True)
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    with listening_socket(folder) as planted:
        assert not await a_change_crosses(settings)
        assert received_nothing(planted)
