"""SQLite change feed: a datagram dropped at a full receiver queue is never a silent loss (issue 15)."""

from __future__ import annotations

import socket
from pathlib import Path

import anyio
import pytest

from storage import open_store
from storage.contracts import RESYNC_TOPIC
from storage.sqlite.feed import feed_folder

pytestmark = pytest.mark.anyio


async def test_a_follower_whose_queue_stays_full_is_marked_and_told_to_re_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/feed.db"
    publisher = await open_store(url, vector_index=False)
    follower = await open_store(url, vector_index=False)
    heard: list[str] = []
    told = anyio.Event()

    def on_topic(topic: str) -> None:
        heard.append(topic)
        if topic == RESYNC_TOPIC:
            told.set()

    try:
        async with follower.follow_changes(on_topic):
            folder = feed_folder(tmp_path / "feed.db")
            # A follower that stopped reading: a bound socket nobody drains (its queue fills up).
            stuck_path = folder / "stuck-0-0000.sock"
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as stuck:
                stuck.bind(str(stuck_path))
                for n in range(200):
                    await publisher.publish_changes([f"memory://rooms/r{n}"])
                assert (folder / "stuck-0-0000.sock.lost").exists()
            # The live follower's own marker (as a sender would leave it) turns into RESYNC_TOPIC.
            lost = next(p for p in folder.glob("*.sock") if not p.name.startswith("stuck"))
            lost.with_name(lost.name + ".lost").touch()
            with anyio.fail_after(10):
                await told.wait()
            assert not lost.with_name(lost.name + ".lost").exists()
            assert "memory://rooms/r0" in heard
    finally:
        await publisher.close()
        await follower.close()
