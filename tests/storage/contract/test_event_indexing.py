"""What an event is searched by: its date, its sender and content, and the turns around it (every backend).

See ``storage.indexing``: the lexical text of an event is its head plus the heads of up to two events on
each side that are close in time and no more sensitive than it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import MemoryStore, Scope
from storage.models import Event, EventSource, NewEvent, NewRoom, SearchRequest, Sensitivity
from tests.storage.contract.support import at
from tests.storage.contract.test_properties import PROPERTY, word_source

pytestmark = pytest.mark.anyio

__all__ = ["word_source"]  # the fixture, shared with test_properties

START = at("2023-05-08T13:56")


async def events_of(store: MemoryStore, query: str, *, scope: Scope | None = None) -> list[str]:
    """Event ids found for ``query`` (lexical search over events only), best first."""
    hits = await store.search(
        SearchRequest(query=query, include_events=True, include_memories=False, limit=100), scope=scope
    )
    return [h.item_id for h in hits]


async def conversation(store: MemoryStore, *texts: str, gap: timedelta = timedelta(minutes=1)) -> list[Event]:
    room = await store.create_room(NewRoom())
    return [
        (
            await store.append_event(
                NewEvent(room_id=room.room_id, content=text, occurred_at=START + i * gap)
            )
        ).event
        for i, text in enumerate(texts)
    ]


async def test_a_reply_is_found_by_the_words_of_the_question_before_it(store: MemoryStore) -> None:
    question, answer, _ = await conversation(
        store, "Where did you go hiking last weekend?", "Mount Rainier, it was beautiful", "Nice"
    )

    found = await events_of(store, "hiking")

    assert question.event_id in found
    assert answer.event_id in found


async def test_an_event_is_found_by_the_words_of_the_turn_after_it(store: MemoryStore) -> None:
    teaser, reveal = await conversation(store, "Guess what happened today!", "We adopted a puppy")

    assert set(await events_of(store, "puppy")) == {teaser.event_id, reveal.event_id}


async def test_the_window_reaches_two_events_on_each_side(store: MemoryStore) -> None:
    events = await conversation(store, "one", "two", "three", "zebra crossing", "five", "six", "seven")

    assert set(await events_of(store, "zebra")) == {e.event_id for e in events[1:6]}


async def test_events_hours_apart_do_not_lend_each_other_words(store: MemoryStore) -> None:
    early, late = await conversation(store, "marathon training", "good morning", gap=timedelta(hours=7))

    assert await events_of(store, "marathon") == [early.event_id]
    assert await events_of(store, "morning") == [late.event_id]


async def test_a_more_sensitive_neighbour_lends_no_words(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    secret = (
        await store.append_event(
            NewEvent(
                room_id=room.room_id,
                content="the merger closes Friday",
                sensitivity=Sensitivity.CONFIDENTIAL,
                occurred_at=START,
            )
        )
    ).event
    reply = (
        await store.append_event(
            NewEvent(room_id=room.room_id, content="understood, quiet until then", occurred_at=START)
        )
    ).event
    internal = Scope(agent="triage", max_sensitivity=Sensitivity.INTERNAL)

    assert await events_of(store, "merger", scope=internal) == []
    assert await events_of(store, "merger") == [secret.event_id]
    assert set(await events_of(store, "quiet")) == {secret.event_id, reply.event_id}


async def test_an_event_is_found_by_its_sender_and_its_date(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    identity, _ = await store.resolve_identity("chat", "caroline")
    by_caroline = (
        await store.append_event(
            NewEvent(
                room_id=room.room_id,
                content="I went to the support group",
                source=EventSource(channel_type="chat", sender_identity_id=identity.identity_id),
                occurred_at=at("2023-05-08T13:56"),
            )
        )
    ).event
    by_agent = (
        await store.append_event(
            NewEvent(
                room_id=room.room_id,
                content="noted",
                source=EventSource(agent="billing"),
                occurred_at=at("2024-03-01T09:00"),
            )
        )
    ).event

    assert await events_of(store, "caroline") == [by_caroline.event_id]
    assert await events_of(store, "May 2023") == [by_caroline.event_id]
    assert await events_of(store, "billing") == [by_agent.event_id]
    assert await events_of(store, "March") == [by_agent.event_id]


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[tuple[int, int]], int]:
    """Events as (sensitivity level, minutes after START), non-decreasing in time; one holds the word."""
    size = draw(st.integers(1, 8))
    levels = draw(st.lists(st.integers(0, 2), min_size=size, max_size=size))
    steps = draw(st.lists(st.sampled_from([0, 1, 30, 500]), min_size=size, max_size=size))
    minutes = [sum(steps[: i + 1]) for i in range(size)]
    return list(zip(levels, minutes, strict=True)), draw(st.integers(0, size - 1))


_rooms = count()


@PROPERTY
@given(timeline=timelines(), clearance=st.integers(0, 2))
async def test_the_window_lends_words_only_within_the_rules(
    store: MemoryStore,
    word_source: Iterator[str],
    timeline: tuple[list[tuple[int, int]], int],
    clearance: int,
) -> None:
    """Oracle: the word is found in the event holding it and in events within two indexes of it that are
    at most 6 hours away and at least as sensitive; never above the caller's clearance."""
    specs, holder = timeline
    word = next(word_source)
    levels = list(Sensitivity)
    room = await store.create_room(NewRoom(name=f"property {next(_rooms)}"))
    events = [
        (
            await store.append_event(
                NewEvent(
                    room_id=room.room_id,
                    content=f"{word} here" if i == holder else "filler",
                    sensitivity=next(s for s in levels if s.level == level),
                    occurred_at=START + timedelta(minutes=minutes),
                )
            )
        ).event
        for i, (level, minutes) in enumerate(specs)
    ]
    scope = Scope(agent="oracle", max_sensitivity=next(s for s in levels if s.level == clearance))
    source_level, source_minutes = specs[holder]
    expected = {
        e.event_id
        for i, (e, (level, minutes)) in enumerate(zip(events, specs, strict=True))
        if level <= clearance
        and (
            i == holder
            or (abs(i - holder) <= 2 and abs(minutes - source_minutes) <= 360 and source_level <= level)
        )
    }

    assert set(await events_of(store, word, scope=scope)) == expected


async def test_a_query_naming_a_sender_lifts_that_senders_events(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    posts = {}
    for name, minutes in (("melanie", 0), ("caroline", 600)):
        identity, _ = await store.resolve_identity("chat", name)
        posts[name] = (
            await store.append_event(
                NewEvent(
                    room_id=room.room_id,
                    content="I painted a sunset over the lake",
                    source=EventSource(channel_type="chat", sender_identity_id=identity.identity_id),
                    occurred_at=START + timedelta(minutes=minutes),
                )
            )
        ).event
    request = {"include_events": True, "include_memories": False}

    for name in posts:
        named = await store.search(SearchRequest(query=f"What did {name} paint? A sunset?", **request))
        assert named[0].item_id == posts[name].event_id
    plain = await store.search(SearchRequest(query="caroline painted sunset", sender_boost=0.0, **request))
    boosted = await store.search(SearchRequest(query="caroline painted sunset", sender_boost=1.0, **request))
    by_id = {h.item_id: h for h in boosted}
    assert by_id[posts["caroline"].event_id].score == pytest.approx(
        2 * {h.item_id: h for h in plain}[posts["caroline"].event_id].score
    )
    assert by_id[posts["melanie"].event_id].score == pytest.approx(
        {h.item_id: h for h in plain}[posts["melanie"].event_id].score
    )
