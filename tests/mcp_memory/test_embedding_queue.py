"""Writes with the embedder off their critical path (issue 15): committed and lexically findable at once,
found by vector once the background drain has embedded them, and nothing lost across a restart."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from mcp_memory.config import Settings, load_settings
from mcp_memory.services import open_service
from storage import MemoryStore
from storage.models import SearchRequest
from tests.mcp_memory.embedding_stub import DIMS, Stub
from tests.mcp_memory.embedding_stub import stub as stub  # noqa: F401  (the fixture)

pytestmark = pytest.mark.anyio


def _settings(tmp_path: Path, stub: Stub, deferred: bool = True) -> Settings:
    config = tmp_path / "team.toml"
    config.write_text(
        'data_dir = "data"\n[embedder]\nprovider = "openai"\n'
        f'url = "{stub.url}"\nmodel = "stub-embed"\ndimensions = {DIMS}\ndeferred = {str(deferred).lower()}\n',
        encoding="utf-8",
    )
    return load_settings(config)


async def _drained(store: MemoryStore, seconds: float = 20.0) -> None:
    """Wait until the store's embedding queue is empty (fails after ``seconds``)."""
    for _ in range(int(seconds / 0.05)):
        if not await store.unembedded_batch():
            return
        await anyio.sleep(0.05)
    raise AssertionError("the embedding queue was not drained")


async def test_a_deferred_write_is_found_lexically_at_once_and_by_vector_after_the_drain(
    stub: Stub, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, stub)
    async with open_service(settings) as service:
        me = service.principal("triage")
        memory = await service.memories.remember(me, "the customer prefers email")
        lexical = await service.store.search(SearchRequest(query="customer prefers email"))
        assert [h.item_id for h in lexical] == [memory.memory_id]
        await _drained(service.store)
        query = await service.context.embeddings.embed_query("the customer prefers email")
        hits = await service.store.search(SearchRequest(query="?"), query)
        assert [(h.item_id, h.vector_rank) for h in hits] == [(memory.memory_id, 1)]


async def test_items_queued_before_a_restart_are_embedded_after_it(stub: Stub, tmp_path: Path) -> None:
    settings = _settings(tmp_path, stub)
    stub.then(400)  # the embedder refuses: the write still commits, its vector waits in the queue
    async with open_service(settings) as service:
        me = service.principal("triage")
        await service.memories.remember(me, "remember me across a restart")
        await anyio.sleep(0.2)
        assert len(await service.store.unembedded_batch()) == 1
    async with open_service(settings) as service:
        await _drained(service.store)
