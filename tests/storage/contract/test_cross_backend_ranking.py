"""The same conversation in SQLite and PostgreSQL ranks the same way.

BM25 (FTS5) and ``ts_rank`` (PostgreSQL) score words differently, so raw lexical scores differ; what must agree is
what search returns: the same items, the same winner, the same vector ranks (both exact cosine), and
the same fusion arithmetic on top of the ranks (weights, named-sender boost).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage import MemoryStore
from storage.indexing import names_sender
from storage.models import EventSource, NewEvent, NewRoom, SearchHit, SearchRequest
from tests.conftest import PostgresDatabases
from tests.storage.contract.conftest import StoreFactory
from tests.storage.contract.support import at, axis, rrf

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

START = at("2023-05-08T13:56")

TURNS = [
    ("caroline", "I went to an LGBTQ support group yesterday and it was so powerful", 0),
    ("melanie", "Wow, that sounds inspiring! What happened there?", 1),
    ("caroline", "People shared their transgender stories, I felt accepted", 2),
    ("melanie", "I painted a sunrise over the lake last week [shared a photo: a painting of a lake]", 3),
    ("caroline", "Your painting is beautiful, is painting your way to relax?", 4),
    ("melanie", "Yes, painting and running keep me calm, I ran a charity race on Saturday", 5),
    ("caroline", "I am researching adoption agencies, I want to give kids a home", 6),
    ("melanie", "Adoption is a wonderful plan, my kids love camping with us", 7),
    # A day later: no window reaches across (storage.indexing.CONTEXT_MAX_GAP).
    ("caroline", "I signed up for a pottery class, clay is so soothing", 1440),
    ("melanie", "We went camping in the mountains and roasted marshmallows", 2880),
]

#: (query, the turn it is about, whether that turn is alone in its window so it must win outright).
QUERIES = [
    ("What did Caroline research?", 6, False),
    ("When did Melanie run a charity race?", 5, False),
    ("What did Melanie paint?", 3, False),
    ("support group", 0, False),
    ("What class did Caroline sign up for?", 8, True),
    ("Where did Melanie roast marshmallows?", 9, True),
]


def vector(turn: int) -> list[float]:
    """Turn ``turn``'s embedding: one axis each for the first eight, two-axis mixes for the last two."""
    return axis(turn) if turn < 8 else axis(turn - 8, lean=turn - 7, amount=1.0)


@pytest.fixture
async def both_stores(
    tmp_path: Path, pg_databases: PostgresDatabases
) -> AsyncIterator[dict[str, MemoryStore]]:
    factories = {
        "sqlite": StoreFactory("sqlite", tmp_path, None),
        "postgres": StoreFactory("postgres", tmp_path, pg_databases),
    }
    try:
        yield {name: await factory.new_store() for name, factory in factories.items()}
    finally:
        for factory in factories.values():
            await factory.aclose()


async def load_conversation(store: MemoryStore) -> list[str]:
    room = await store.create_room(NewRoom(name="cross-backend"))
    ids = []
    for speaker, text, i in TURNS:
        identity, _ = await store.resolve_identity("chat", speaker)
        event = (
            await store.append_event(
                NewEvent(
                    room_id=room.room_id,
                    content=text,
                    source=EventSource(channel_type="chat", sender_identity_id=identity.identity_id),
                    occurred_at=START + timedelta(minutes=i),
                ),
                vector(len(ids)),
            )
        ).event
        ids.append(event.event_id)
    return ids


def by_turn(hits: list[SearchHit], ids: list[str]) -> list[int]:
    return [ids.index(h.item_id) for h in hits]


async def test_both_backends_return_the_same_items_and_winner(both_stores: dict[str, MemoryStore]) -> None:
    ids = {name: await load_conversation(store) for name, store in both_stores.items()}

    for query, expected_turn, alone in QUERIES:
        request = SearchRequest(query=query, include_events=True, include_memories=False, limit=20)
        ranked = {
            name: await store.search(request, query_embedding=vector(expected_turn))
            for name, store in both_stores.items()
        }
        turns = {name: by_turn(hits, ids[name]) for name, hits in ranked.items()}

        if alone:
            assert turns["sqlite"][0] == turns["postgres"][0] == expected_turn, (query, turns)
        else:  # its neighbours share its words; each engine's length normalisation orders the window
            assert expected_turn in turns["sqlite"][:3], (query, turns)
            assert expected_turn in turns["postgres"][:3], (query, turns)
        assert set(turns["sqlite"]) == set(turns["postgres"]), query
        # Only the expected turn has the query's vector; others may tie, and ties break by (random) id.
        for name, hits in ranked.items():
            assert {h.item_id: h.vector_rank for h in hits}[ids[name][expected_turn]] == 1, (name, query)
        assert sorted(h.vector_rank or 0 for h in ranked["sqlite"]) == sorted(
            h.vector_rank or 0 for h in ranked["postgres"]
        ), query
        for name, hits in ranked.items():
            for hit in hits:
                assert hit.event is not None
                sender = "caroline" if TURNS[ids[name].index(hit.item_id)][0] == "caroline" else "melanie"
                boost = 1.0 + request.sender_boost if names_sender(query, sender) else 1.0
                assert hit.score == pytest.approx(rrf(hit.lexical_rank, hit.vector_rank) * boost, rel=1e-9)
