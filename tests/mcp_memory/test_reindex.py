"""Changing the embedder of an existing store: detected, lexical fallback, ``mcp-memory reindex``.

Through the service and the real CLI (``mcp-memory reindex`` run in process), on SQLite and on
PostgreSQL. Model A is the real local MiniLM (384 dimensions); model B is an OpenAI-compatible endpoint
stubbed on 127.0.0.1 (8 dimensions), so the reindex changes both the model and the vector size.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from mcp_memory.config import Settings, load_settings
from mcp_memory.crypto import ContentCipher
from mcp_memory.services import Service, open_service
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.models import SearchRequest, Sensitivity
from tests.cli_runner import run_cli
from tests.conftest import PostgresDatabases
from tests.mcp_memory.embedding_stub import DIMS, Stub, stub_vector
from tests.mcp_memory.embedding_stub import stub as stub  # noqa: F401  (the fixture)

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
LOCAL_MODEL = "minilm-l6-v2-int8-onnx"
MEMORIES = ["The customer was charged twice for one order", "The office plants need water on Fridays"]
TURNS = ["Can I get a refund for the double charge?", "Sure, I have refunded the second payment."]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def postgres(request: pytest.FixtureRequest) -> PostgresDatabases | None:
    """This test's PostgreSQL databases for the ``postgres`` run (skip locally / fail on CI when
    unreachable)."""
    if request.param == "sqlite":
        return None
    databases = request.getfixturevalue("pg_databases")
    assert isinstance(databases, PostgresDatabases)
    return databases


@pytest.fixture
async def storage_url(postgres: PostgresDatabases | None, tmp_path: Path) -> str:
    """An empty SQLite file or PostgreSQL database."""
    if postgres is None:
        return f"sqlite:///{tmp_path}/data/memory.db"
    return await postgres.new_url()


def write_config(path: Path, storage_url: str, embedder: str) -> Path:
    path.write_text(f'data_dir = "data"\n[storage]\nurl = "{storage_url}"\n[embedder]\n{embedder}\n', "utf-8")
    return path


def stub_embedder(stub: Stub, **extra: object) -> str:
    lines = ['provider = "openai"', f'url = "{stub.url}"', 'model = "stub-embed"', f"dimensions = {DIMS}"]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines)


def stub_unit_vector(text: str) -> list[float]:
    values = stub_vector(text)
    norm = sum(v * v for v in values) ** 0.5
    return [v / norm for v in values]


async def cli(*args: str, **env_vars: str) -> Result:
    """``mcp-memory *args`` in process (see ``tests/cli_runner.py``)."""
    return await run_cli(*args, env=env_vars)


async def seed(service: Service) -> None:
    me = service.principal("triage")
    for text in MEMORIES:
        await service.memories.remember(me, text, namespace="shared-support")
    room = await service.rooms.create_room(me, name="case 1")
    for text in TURNS:
        await service.events.store_event(me, room.room_id, text)


async def search(service: Service, query: str) -> tuple[str, str]:
    """(mode, content of the best hit) of a search over memories and events."""
    me = service.principal("triage")
    results = await service.memories.search(me, SearchRequest(query=query, include_events=True, limit=3))
    return results.mode, results.results[0].content if results.results else ""


async def test_another_embedder_falls_back_to_lexical_until_reindex_switches_the_store(
    stub: Stub, tmp_path: Path, storage_url: str
) -> None:
    config_a = write_config(tmp_path / "a.toml", storage_url, 'provider = "local"')
    config_b = write_config(tmp_path / "b.toml", storage_url, stub_embedder(stub, batch_size=2))
    async with open_service(load_settings(config_a)) as service:
        await seed(service)
        assert await search(service, "billed two times") == ("hybrid", MEMORIES[0])

    # Model B on a store of model A: detected; lexical search, new items stored without vectors.
    async with open_service(load_settings(config_b)) as service:
        assert service.context.embeddings.status.startswith("mismatch: this store's vectors were made by")
        assert (await search(service, "plants water"))[0] == "lexical"
        await service.memories.remember(service.principal("triage"), "late note about invoices")
        assert await service.store.get_meta(EMBEDDING_MODEL_KEY) == LOCAL_MODEL
    assert stub.requests == []  # nothing was sent to model B

    done = await cli("reindex", "--config", str(config_b), "--batch-size", "2")
    assert done.exit_code == 0, done.stderr
    assert (
        f"reindexed 5 items: {LOCAL_MODEL!r} (384 dims) -> 'openai:stub-embed' ({DIMS} dims)" in done.stdout
    )
    embedded = {text for request in stub.requests for text in request["input"]}
    assert embedded >= {*MEMORIES, "late note about invoices"}
    # Events are embedded as their indexed head, "[<date>] <sender>: <content>" (storage.indexing).
    assert all(any(text.endswith(f"] triage: {turn}") for text in embedded) for turn in TURNS)
    assert max(len(r["input"]) for r in stub.requests) == 2

    async with open_service(load_settings(config_b)) as service:
        assert service.context.embeddings.status == "active"
        assert await service.store.get_meta(EMBEDDING_DIMENSIONS_KEY) == str(DIMS)
        assert (await search(service, TURNS[1]))[0] == "hybrid"
        # The live vectors are the stub's (a hash of the embedded text): the head's own is the nearest.
        head = next(text for text in embedded if text.endswith(TURNS[1]))
        hits = await service.store.search(
            SearchRequest(query="zzzz", include_events=True, limit=3), stub_unit_vector(head)
        )
        best = next(h for h in hits if h.vector_rank == 1)
        assert best.event is not None
        assert best.event.content == TURNS[1]

    # Back to model A: detected again, and a second reindex restores 384-dimensional meaning search.
    async with open_service(load_settings(config_a)) as service:
        assert (await search(service, "billed two times"))[0] == "lexical"
    doctor = await cli("doctor", "--config", str(config_a))
    assert doctor.exit_code == 0, doctor.stderr
    status = json.loads(doctor.stdout)["embedder_status"]
    assert status.startswith("mismatch: this store's vectors were made by embedder 'openai:stub-embed'")
    assert "mcp-memory reindex" in status
    back = await cli("reindex", "--config", str(config_a))
    assert back.exit_code == 0, back.stderr
    assert f"-> {LOCAL_MODEL!r} (384 dims)" in back.stdout
    async with open_service(load_settings(config_a)) as service:
        assert await search(service, "billed two times") == ("hybrid", MEMORIES[0])
        assert await service.store.get_meta(EMBEDDING_DIMENSIONS_KEY) == "384"


async def test_an_interrupted_reindex_resumes_from_the_staged_vectors(
    stub: Stub, tmp_path: Path, storage_url: str
) -> None:
    config_a = write_config(tmp_path / "a.toml", storage_url, 'provider = "none"')
    config_b = write_config(tmp_path / "b.toml", storage_url, stub_embedder(stub, max_retries=0))
    async with open_service(load_settings(config_a)) as service:
        await seed(service)
    # The probe and the first batch of 2 pass, then the endpoint refuses: 2 of 4 items are left unstaged.
    stub.then(200).then(200).then(401)
    failed = await cli("reindex", "--config", str(config_b), "--batch-size", "2")
    assert failed.exit_code == 1
    assert "HTTP 401" in failed.stderr
    assert "run the same command again to resume" in failed.stderr
    settings: Settings = load_settings(config_b)
    async with open_service(settings) as service:
        progress = await service.store.reindex_progress()
        assert progress is not None
        assert (progress.model, progress.items, progress.staged) == ("openai:stub-embed", 4, 2)
    resumed = await cli("reindex", "--config", str(config_b), "--batch-size", "2")
    assert resumed.exit_code == 0, resumed.stderr
    assert "reindexed 4 items" in resumed.stdout
    assert "(2 resumed from an earlier run)" in resumed.stdout


async def test_reindex_embeds_the_plain_text_of_confidential_items_never_their_ciphertext(
    stub: Stub, tmp_path: Path, storage_url: str
) -> None:
    """Confidential content is sealed in the store and out of the lexical index: after a reindex it is
    found by meaning alone, so its vector must be of the opened plain text (``ContentSealer.reveal``)."""
    key = ContentCipher.generate_key()
    config_none = write_config(tmp_path / "none.toml", storage_url, 'provider = "none"')
    config_local = write_config(tmp_path / "local.toml", storage_url, 'provider = "local"')
    config_stub = write_config(tmp_path / "stub.toml", storage_url, stub_embedder(stub))
    async with open_service(load_settings(config_none, encryption_key=key)) as service:
        me = service.principal("triage")
        secret = await service.memories.remember(
            me, MEMORIES[0], namespace="shared-support", sensitivity=Sensitivity.CONFIDENTIAL
        )
        await service.memories.remember(me, MEMORIES[1], namespace="shared-support")
        room = await service.rooms.create_room(me, name="case 1")
        await service.events.store_event(me, room.room_id, TURNS[0], sensitivity=Sensitivity.CONFIDENTIAL)
        assert (await service.store.get_memory(secret.memory_id)).content.startswith("enc:v1:")

    # Without the key the sealed items cannot be opened: refused with a clear error, nothing embedded.
    refused = await cli("reindex", "--config", str(config_stub))
    assert refused.exit_code == 1
    assert "must configure the tenant's key" in refused.stderr
    assert all(not text.startswith("enc:") for r in stub.requests for text in r["input"])

    # With the key the stub endpoint is sent the plain texts (the memory, the event's head), no ciphertext.
    done = await cli("reindex", "--config", str(config_stub), MCP_MEMORY_ENCRYPTION_KEY=key)
    assert done.exit_code == 0, done.stderr
    embedded = {text for request in stub.requests for text in request["input"]}
    assert MEMORIES[0] in embedded
    assert any(text.endswith(f"] triage: {TURNS[0]}") for text in embedded)
    assert not any("enc:v1:" in text for text in embedded)

    # With the real local model: the confidential memory is found by meaning, with no word in common.
    done = await cli("reindex", "--config", str(config_local), MCP_MEMORY_ENCRYPTION_KEY=key)
    assert done.exit_code == 0, done.stderr
    assert "reindexed 3 items" in done.stdout
    async with open_service(load_settings(config_local, encryption_key=key)) as service:
        assert await search(service, "billed two times") == ("hybrid", MEMORIES[0])
        me = service.principal("triage")
        request = SearchRequest(query="money back for a duplicate payment", include_events=True, limit=1)
        hits = (await service.memories.search(me, request)).results
        assert [hit.content for hit in hits] == [TURNS[0]]


async def test_reindex_without_an_embedder_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path / "none.toml", f"sqlite:///{tmp_path}/m.db", 'provider = "none"')
    done = await cli("reindex", "--config", str(config))
    assert done.exit_code == 2
    assert 'embedder.provider is "none"' in done.stderr


async def test_reindex_with_the_same_model_reproduces_the_vectors_of_the_write_path(tmp_path: Path) -> None:
    """``document_text`` embeds what the write paths embed: memory content, event head with sender+date."""
    import apsw
    import numpy as np

    db = tmp_path / "data" / "memory.db"
    config = write_config(tmp_path / "a.toml", f"sqlite:///{db}", 'provider = "local"')
    async with open_service(load_settings(config)) as service:
        await seed(service)
        me = service.principal("triage")
        room = await service.rooms.create_room(me, name="case 2")
        await service.events.store_event(
            me, room.room_id, "My parcel never came", channel_type="sms", sender_address="+14155550123"
        )

    def vectors() -> dict[str, np.ndarray]:
        conn = apsw.Connection(str(db))
        try:
            rows = conn.execute("SELECT item_id, embedding FROM search_docs").fetchall()
        finally:
            conn.close()
        return {item_id: np.frombuffer(blob, dtype="<f4") for item_id, blob in rows}

    before = vectors()
    done = await cli("reindex", "--config", str(config))
    assert done.exit_code == 0, done.stderr
    assert f"reindexed 5 items: {LOCAL_MODEL!r} (384 dims) -> {LOCAL_MODEL!r} (384 dims)" in done.stdout
    after = vectors()
    assert after.keys() == before.keys()
    for item_id, vector in before.items():
        assert float(np.dot(vector, after[item_id])) > 0.9999, item_id
