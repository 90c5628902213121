"""``export_jsonl`` / ``import_jsonl``: a tenant as JSON Lines, between backends, sealed or plain."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mcp_memory.config import load_settings
from mcp_memory.crypto import ContentCipher
from mcp_memory.portability.commands import run_import
from mcp_memory.portability.jsonl import FORMAT_VERSION, FormatError, export_jsonl, import_jsonl
from mcp_memory.services import open_service
from mcp_memory.services.sealing import ContentSealer
from storage import MemoryStore, open_store
from storage.models import MemoryFilter, NewMemory, Sensitivity
from tests.conftest import PostgresServer
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.embedding_stub import Stub
from tests.mcp_memory.embedding_stub import stub as stub  # noqa: F401  (the fixture)
from tests.mcp_memory.test_reindex import stub_embedder
from tests.storage.contract.portable_data import dump, seed_every_area

pytestmark = pytest.mark.anyio

DIMENSIONS = 8
KEY = ContentCipher.generate_key()
OTHER_KEY = ContentCipher.generate_key()


async def _export(store: MemoryStore, **options: Any) -> str:
    out = io.StringIO()
    await export_jsonl(store, out.write, batch_rows=5, **options)
    return out.getvalue()


def _rows(text: str) -> list[dict[str, Any]]:
    """The rows of an export, parsed (header and closing line left out; jsonb reorders object keys)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"table"')]


@pytest.mark.postgres
async def test_sqlite_to_postgres_to_sqlite_gives_back_the_same_data(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    original = await open_store(f"sqlite:///{tmp_path}/a.db", embedding_dimensions=DIMENSIONS)
    database = await postgres_server.create_database()
    middle = await open_store(postgres_server.dsn(database))
    final = await open_store(f"sqlite:///{tmp_path}/b.db")
    try:
        await seed_every_area(original)
        first = await _export(original)
        report = await import_jsonl(middle, io.StringIO(first), batch_rows=4)
        second = await _export(middle)
        await import_jsonl(final, second.splitlines())
        third = await _export(final)

        assert _rows(first) == _rows(second) == _rows(third)
        assert await dump(final) == await dump(original)
        assert sum(report.inserted.values()) == len(_rows(first))
        assert json.loads(second.splitlines()[0])["backend"] == "postgres"
    finally:
        for store in (original, middle, final):
            await store.close()
        await postgres_server.drop_database(database)


async def test_importing_the_same_export_twice_changes_nothing(tmp_path: Path) -> None:
    async with await open_store(f"sqlite:///{tmp_path}/a.db", embedding_dimensions=DIMENSIONS) as source:
        await seed_every_area(source)
        text = await _export(source)
    async with await open_store(f"sqlite:///{tmp_path}/b.db") as target:
        await import_jsonl(target, text.splitlines())
        before = await dump(target)
        again = await import_jsonl(target, text.splitlines())
        assert sum(again.inserted.values()) == 0
        assert sum(again.read.values()) == len(_rows(text))
        assert await dump(target) == before


async def test_a_namespace_pattern_exports_only_matching_namespaces(tmp_path: Path) -> None:
    async with await open_store(f"sqlite:///{tmp_path}/a.db", embedding_dimensions=DIMENSIONS) as source:
        await seed_every_area(source)
        text = await _export(source, patterns=["agent-*"])
    tables = {line["table"] for line in _rows(text)}
    header = json.loads(text.splitlines()[0])
    assert header["namespaces"] == ["agent-billing"]
    assert "rooms" not in tables
    assert [x["row"]["content"] for x in _rows(text) if x["table"] == "memories"] == ["refund policy v2"]


async def test_import_refuses_a_newer_format_version_and_what_is_not_an_export(tmp_path: Path) -> None:
    async with await open_store(f"sqlite:///{tmp_path}/a.db") as store:
        newer = json.dumps({"format": "mcp-memory-export", "format_version": FORMAT_VERSION + 1})
        with pytest.raises(FormatError, match="newer"):
            await import_jsonl(store, [newer, '{"end": true}'])
        with pytest.raises(FormatError, match="header"):
            await import_jsonl(store, ['{"table": "rooms", "row": {}}'])
        with pytest.raises(FormatError, match="empty"):
            await import_jsonl(store, [])
        assert sum(len(rows) for rows in (await dump(store)).values()) == 0


async def test_a_cut_short_export_is_reported_after_importing_what_it_holds(tmp_path: Path) -> None:
    async with await open_store(f"sqlite:///{tmp_path}/a.db", embedding_dimensions=DIMENSIONS) as source:
        await seed_every_area(source)
        lines = (await _export(source)).splitlines()
    async with await open_store(f"sqlite:///{tmp_path}/b.db") as target:
        with pytest.raises(FormatError, match="cut short"):
            await import_jsonl(target, lines[:-1])
        report = await import_jsonl(target, lines)  # the whole file finishes it
        assert sum(report.inserted.values()) == 0


async def _confidential_tenant(tmp_path: Path, name: str, key: str) -> tuple[str, str]:
    """A SQLite tenant sealed with ``key`` holding one confidential memory; its URL and the memory's id."""
    url = f"sqlite:///{tmp_path}/{name}.db"
    async with open_service(make_settings(tmp_path, storage={"url": url}, encryption_key=key)) as service:
        memory = await service.memories.remember(
            service.principal("triage"),
            "card 4111",
            namespace="shared-x",
            sensitivity=Sensitivity.CONFIDENTIAL,
        )
    return url, memory.memory_id


async def test_confidential_content_stays_sealed_unless_the_key_opens_it_for_a_plain_export(
    tmp_path: Path,
) -> None:
    url, memory_id = await _confidential_tenant(tmp_path, "source", KEY)
    async with await open_store(url) as source:
        sealed = await _export(source)
        plain = await _export(source, plain_cipher=ContentCipher(KEY))
    assert "card 4111" not in sealed
    assert "card 4111" in plain
    assert json.loads(plain.splitlines()[0])["sealed"] is False

    # A plain export is sealed again with the target's own key.
    target_url = f"sqlite:///{tmp_path}/target.db"
    async with await open_store(target_url) as target:
        with pytest.raises(FormatError, match="encryption_key"):
            await import_jsonl(target, plain.splitlines())
        await import_jsonl(target, plain.splitlines(), cipher=ContentCipher(OTHER_KEY))
        stored = await target.get_memory(memory_id)
        assert stored.content.startswith("enc:v1:")
        assert ContentCipher(OTHER_KEY).open(stored.content, kind="memory") == "card 4111"
    settings = make_settings(tmp_path, storage={"url": target_url}, encryption_key=OTHER_KEY)
    async with open_service(settings) as service:  # the target's key check agrees with its content
        page = await service.memories.list_memories(service.principal("triage"), MemoryFilter())
        assert [m.content for m in page.memories] == ["card 4111"]


async def test_a_sealed_export_is_refused_by_a_target_with_another_key(tmp_path: Path) -> None:
    url, memory_id = await _confidential_tenant(tmp_path, "source", KEY)
    async with await open_store(url) as source:
        sealed = await _export(source)
    async with await open_store(f"sqlite:///{tmp_path}/t.db") as target:
        with pytest.raises(FormatError, match="another key"):
            await import_jsonl(target, sealed.splitlines(), cipher=ContentCipher(OTHER_KEY))
        await import_jsonl(target, sealed.splitlines(), cipher=ContentCipher(KEY))
        await ContentSealer(ContentCipher(KEY)).bind(target)  # the copied key check accepts the key
        assert (await target.get_memory(memory_id)).content.startswith("enc:v1:")


async def test_vectors_can_be_left_out_and_another_embedding_size_is_refused(tmp_path: Path) -> None:
    async with await open_store(f"sqlite:///{tmp_path}/a.db", embedding_dimensions=DIMENSIONS) as source:
        await seed_every_area(source)
        with_vectors = await _export(source)
        without = await _export(source, vectors=False)
    assert '"embedding"' not in without
    async with await open_store(f"sqlite:///{tmp_path}/b.db", embedding_dimensions=4) as other:
        await other.add_memory(NewMemory(namespace="agent-x", content="four"), [1.0, 0.0, 0.0, 0.0])
        with pytest.raises(FormatError, match="dimensions"):
            await import_jsonl(other, with_vectors.splitlines())
        report = await import_jsonl(other, without.splitlines())
        assert not report.vectors
        assert report.inserted["memories"] == 4  # two of them copied by the branch
        assert report.read.get("meta", 0) == 0  # no model or size of the source's vectors


async def test_an_export_without_vectors_is_re_embedded_by_the_target_embedder(
    stub: Stub, tmp_path: Path
) -> None:
    async with await open_store(f"sqlite:///{tmp_path}/a.db", embedding_dimensions=DIMENSIONS) as source:
        await seed_every_area(source)
        (tmp_path / "tenant.jsonl").write_text(await _export(source, vectors=False), encoding="utf-8")
    config = tmp_path / "target.toml"
    config.write_text(f'data_dir = "{tmp_path / "target"}"\n[embedder]\n{stub_embedder(stub)}\n', "utf-8")
    settings = load_settings(config)

    summary = await run_import(
        settings,
        tmp_path / "tenant.jsonl",
        form="jsonl",
        agent=None,
        reembed=True,
        console=Console(quiet=True),
    )

    assert "re-embedded" in summary
    async with await open_store(settings.storage_url) as target:
        assert await target.get_meta("embedding_model") is not None
        docs = (await dump(target))["search_docs"]
        assert docs
        assert all(doc["embedding"] is not None for doc in docs)
