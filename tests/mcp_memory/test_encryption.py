"""Encryption at rest: confidential content is sealed in the database, readable only with the key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_memory.config import ConfigError, Settings
from mcp_memory.crypto import ContentCipher
from mcp_memory.services import open_service
from storage import InvalidInputError, PermissionDeniedError
from storage.models import MemoryFilter, SearchRequest, Sensitivity
from tests.mcp_memory.conftest import make_settings

pytestmark = pytest.mark.anyio

SECRET = "zqsecretx card 4111-1111-1111-1111 expires 09/29"
KEY = ContentCipher.generate_key()
OTHER_KEY = ContentCipher.generate_key()


def _settings(tmp_path: Path, url: str, **overrides: Any) -> Settings:
    return make_settings(tmp_path, storage={"url": url}, **overrides)


async def _raw_contents(url: str) -> bytes:
    """Everything the database holds about content, read below the store: SQLite file + WAL bytes, or
    every content-bearing column of the PostgreSQL tables as text."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT content AS t FROM memories UNION ALL SELECT content FROM events"
            " UNION ALL SELECT text || ' ' || tsv::text FROM search_docs"
            " UNION ALL SELECT handoff::text FROM escalations"
        )
    finally:
        await conn.close()
    return "\n".join(r["t"] for r in rows).encode()


async def test_confidential_content_is_unreadable_in_the_database_without_the_key(
    tmp_path: Path, storage_url_factory: Callable[[], Awaitable[str]]
) -> None:
    url = await storage_url_factory()
    settings = _settings(tmp_path, url, encryption_key=KEY)
    async with open_service(settings) as service:
        me = service.principal("billing")
        room = await service.rooms.create_room(me)
        memory = await service.memories.remember(me, SECRET, sensitivity=Sensitivity.CONFIDENTIAL)
        stored = await service.events.store_event(
            me, room.room_id, SECRET, sensitivity=Sensitivity.CONFIDENTIAL
        )
        await service.memories.remember(me, "zqplainx internal note", sensitivity=Sensitivity.INTERNAL)
        escalation = await service.escalations.escalate(me, room.room_id, "customer is upset")

        # The service gives the plain text back everywhere.
        assert memory.content == SECRET
        assert stored.event.content == SECRET
        assert (await service.memories.get_memory(me, memory.memory_id)).content == SECRET
        page = await service.events.list_events(me, room.room_id)
        assert [e.content for e in page.events] == [SECRET]
        listed = await service.memories.list_memories(me, MemoryFilter())
        assert SECRET in [m.content for m in listed.memories]
        assert [e.content for e in escalation.handoff.events] == [SECRET]
        again = await service.escalations.get_escalation(me, escalation.escalation_id)
        assert [e.content for e in again.handoff.events] == [SECRET]
        # No lexical tokens of confidential text: its words find nothing, internal words still do.
        secret_hits = await service.memories.search(me, SearchRequest(query="zqsecretx", include_events=True))
        plain_hits = await service.memories.search(me, SearchRequest(query="zqplainx"))
        assert secret_hits.results == []
        assert [r.content for r in plain_hits.results] == ["zqplainx internal note"]
        # Below the store: only ciphertext.
        raw = await service.store.get_memory(memory.memory_id)
        assert raw.content.startswith("enc:v1:")

    on_disk = await _raw_contents(url)
    assert b"enc:v1:" in on_disk
    assert b"zqplainx" in on_disk  # the check itself can see plain text
    for fragment in (b"zqsecretx", b"4111", b"expires"):
        assert fragment not in on_disk


async def test_a_confidential_write_without_a_key_is_refused_and_changes_nothing(
    tmp_path: Path, storage_url_factory: Callable[[], Awaitable[str]]
) -> None:
    settings = _settings(tmp_path, await storage_url_factory())
    async with open_service(settings) as service:
        me = service.principal("billing")
        room = await service.rooms.create_room(me)
        with pytest.raises(InvalidInputError, match="encryption_key"):
            await service.memories.remember(me, SECRET, sensitivity=Sensitivity.CONFIDENTIAL)
        with pytest.raises(InvalidInputError, match="encryption_key"):
            await service.events.store_event(me, room.room_id, SECRET, sensitivity=Sensitivity.CONFIDENTIAL)
        assert (await service.memories.list_memories(me, MemoryFilter())).memories == []
        assert (await service.store.get_room(room.room_id)).last_event_index == 0


async def test_a_wrong_or_missing_key_is_a_clear_error_never_garbage(
    tmp_path: Path, storage_url_factory: Callable[[], Awaitable[str]]
) -> None:
    url = await storage_url_factory()
    async with open_service(_settings(tmp_path, url, encryption_key=KEY)) as service:
        me = service.principal("billing")
        memory = await service.memories.remember(me, SECRET, sensitivity=Sensitivity.CONFIDENTIAL)

    with pytest.raises(ConfigError, match="encryption_key"):
        async with open_service(_settings(tmp_path, url, encryption_key=OTHER_KEY)):
            pass
    async with open_service(_settings(tmp_path, url)) as service:  # no key: start, but refuse to open
        me = service.principal("billing")
        with pytest.raises(PermissionDeniedError, match="no encryption_key"):
            await service.memories.get_memory(me, memory.memory_id)
        with pytest.raises(PermissionDeniedError, match="encrypted"):
            await service.memories.list_memories(me, MemoryFilter())


def test_a_malformed_key_fails_at_start_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="encryption_key"):
        make_settings(tmp_path, encryption_key="not-a-key")
