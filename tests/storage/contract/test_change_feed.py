"""The change feed: topics published by one store instance reach followers of another on one database.

PostgreSQL carries them across instances (stand-ins for server processes) with LISTEN/NOTIFY; SQLite
with Unix datagram sockets between the processes of one machine that share the file.
"""

from __future__ import annotations

import anyio
import pytest

from storage import InvalidInputError
from storage.contracts.changes import MAX_TOPIC_CHARS
from tests.storage.contract.conftest import StoreFactory

pytestmark = pytest.mark.anyio


async def test_topics_reach_followers_of_other_instances_but_not_the_publisher(
    store_factory: StoreFactory,
) -> None:
    url = await store_factory.new_url()
    publisher, follower = await store_factory.open(url), await store_factory.open(url)
    heard_by_follower: list[str] = []
    heard_by_publisher: list[str] = []
    arrived = anyio.Event()

    def on_follower(topic: str) -> None:
        heard_by_follower.append(topic)
        if topic == "last":
            arrived.set()

    async with (
        follower.follow_changes(on_follower) as active,
        publisher.follow_changes(heard_by_publisher.append) as own_active,
    ):
        assert active is own_active is True
        await publisher.publish_changes(["memory://rooms/r1/events", "memory://rooms/r1"])
        await publisher.publish_changes(["last"])
        with anyio.fail_after(10):
            await arrived.wait()
    assert heard_by_follower == ["memory://rooms/r1/events", "memory://rooms/r1", "last"]
    assert heard_by_publisher == []


async def test_many_long_topics_are_split_across_notices_and_all_arrive(store_factory: StoreFactory) -> None:
    url = await store_factory.new_url()
    publisher, follower = await store_factory.open(url), await store_factory.open(url)
    topics = [f"{n:04d}-" + "x" * (MAX_TOPIC_CHARS - 5) for n in range(20)]  # 20 kB: over one NOTIFY
    heard: list[str] = []
    arrived = anyio.Event()

    def on_topic(topic: str) -> None:
        heard.append(topic)
        if len(heard) == len(topics):
            arrived.set()

    async with follower.follow_changes(on_topic):
        await publisher.publish_changes(topics)
        with anyio.fail_after(10):
            await arrived.wait()
    assert heard == topics


@pytest.mark.parametrize("topic", ["", "x" * (MAX_TOPIC_CHARS + 1)])
async def test_empty_or_oversized_topics_are_refused(store_factory: StoreFactory, topic: str) -> None:
    store = await store_factory.new_store()
    with pytest.raises(InvalidInputError):
        await store.publish_changes(["fine", topic])


async def test_a_follower_that_left_no_longer_receives_and_does_not_break_publishing(
    store_factory: StoreFactory,
) -> None:
    url = await store_factory.new_url()
    publisher, leaver, stayer = [await store_factory.open(url) for _ in range(3)]
    left: list[str] = []
    stayed: list[str] = []
    arrived = anyio.Event()

    def on_stayer(topic: str) -> None:
        stayed.append(topic)
        arrived.set()

    async with leaver.follow_changes(left.append):
        pass
    async with stayer.follow_changes(on_stayer):
        await publisher.publish_changes(["after"])
        with anyio.fail_after(10):
            await arrived.wait()
    assert (left, stayed) == ([], ["after"])
