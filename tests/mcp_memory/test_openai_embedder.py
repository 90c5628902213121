"""The OpenAI-compatible HTTP provider against a stub endpoint on 127.0.0.1 (real sockets, real httpx).

The stub stands in for the remote service (OpenAI, Ollama, vLLM): it answers ``POST /v1/embeddings`` in
OpenAI's format with deterministic vectors derived from each text, and can be told to answer the next
requests with an error status, a delay, or vectors of the wrong size.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mcp_memory.config import ConfigError, load_settings
from mcp_memory.embeddings import EmbedderUnavailableError, OpenAIEmbedder, make_embedder
from mcp_memory.services import open_service
from tests.mcp_memory.embedding_stub import DIMS, Stub, stub_vector
from tests.mcp_memory.embedding_stub import stub as stub  # noqa: F401  (the fixture)

pytestmark = pytest.mark.anyio


def unit(values: list[float]) -> list[float]:
    array = np.asarray(values, dtype=np.float32)
    return (array / np.linalg.norm(array)).tolist()


async def test_texts_go_in_batches_and_come_back_in_order_and_unit_length(stub: Stub) -> None:
    embedder = OpenAIEmbedder(url=stub.url, model="stub-embed", dimensions=DIMS, batch_size=4)
    texts = [f"text number {i}" for i in range(10)]
    try:
        vectors = await embedder.embed(texts)
    finally:
        await embedder.aclose()
    assert [len(r["input"]) for r in stub.requests] == [4, 4, 2]
    assert [t for r in stub.requests for t in r["input"]] == texts
    assert all(r["model"] == "stub-embed" for r in stub.requests)
    for text, vector in zip(texts, vectors, strict=True):
        assert vector == pytest.approx(unit(stub_vector(text)), abs=1e-6)
        assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-5)
    assert embedder.name == "openai:stub-embed"


async def test_prefixes_and_api_key_are_sent(stub: Stub) -> None:
    embedder = OpenAIEmbedder(
        url=stub.url,
        model="m",
        dimensions=DIMS,
        api_key="sk-test-123",
        query_prefix="search_query: ",
        document_prefix="search_document: ",
    )
    try:
        await embedder.embed(["a doc"])
        query = await embedder.embed_query("a question")
    finally:
        await embedder.aclose()
    assert [r["input"] for r in stub.requests] == [["search_document: a doc"], ["search_query: a question"]]
    assert {h.get("Authorization") for h in stub.headers} == {"Bearer sk-test-123"}
    assert query == pytest.approx(unit(stub_vector("search_query: a question")), abs=1e-6)


async def test_429_and_503_are_retried_then_succeed(stub: Stub) -> None:
    stub.then(429, headers={"Retry-After": "0"}).then(503).then(502, headers={"retry-after-ms": "10"})
    embedder = OpenAIEmbedder(url=stub.url, model="m", dimensions=DIMS, max_retries=3)
    try:
        vector = await embedder.embed_query("retry me")
    finally:
        await embedder.aclose()
    assert len(stub.requests) == 4
    assert vector == pytest.approx(unit(stub_vector("retry me")), abs=1e-6)


async def test_retries_give_up_with_a_clear_error(stub: Stub) -> None:
    for _ in range(3):
        stub.then(503, headers={"Retry-After": "0"})
    embedder = OpenAIEmbedder(url=stub.url, model="m", dimensions=DIMS, max_retries=2)
    try:
        with pytest.raises(EmbedderUnavailableError, match=r"HTTP 503.*gave up after 3 attempts"):
            await embedder.embed(["x"])
    finally:
        await embedder.aclose()
    assert len(stub.requests) == 3


async def test_a_slow_endpoint_times_out_with_a_clear_error(stub: Stub) -> None:
    stub.then(200, delay=3.0)
    embedder = OpenAIEmbedder(url=stub.url, model="m", dimensions=DIMS, timeout_seconds=0.3, max_retries=0)
    started = time.monotonic()
    try:
        with pytest.raises(EmbedderUnavailableError, match=r"no answer .* within 0.3 s"):
            await embedder.embed_query("slow")
    finally:
        await embedder.aclose()
    assert time.monotonic() - started < 2.5


async def test_wrong_dimensions_are_refused_with_a_clear_error(stub: Stub) -> None:
    stub.then(200, dims=5)
    embedder = OpenAIEmbedder(url=stub.url, model="m", dimensions=DIMS)
    try:
        with pytest.raises(EmbedderUnavailableError, match=r"returned 5-dimensional vectors .* is 8"):
            await embedder.embed(["x"])
    finally:
        await embedder.aclose()


async def test_a_bad_key_fails_at_once_without_retries(stub: Stub) -> None:
    stub.then(401)
    embedder = OpenAIEmbedder(url=stub.url, model="m", dimensions=DIMS, max_retries=4)
    try:
        with pytest.raises(EmbedderUnavailableError, match=r"HTTP 401: stub says 401: check the API key"):
            await embedder.embed(["x"])
    finally:
        await embedder.aclose()
    assert len(stub.requests) == 1


async def test_an_unreachable_endpoint_is_a_clear_error() -> None:
    embedder = OpenAIEmbedder(url="http://127.0.0.1:9/v1", model="m", dimensions=DIMS, max_retries=0)
    try:
        with pytest.raises(EmbedderUnavailableError, match=r"cannot reach http://127.0.0.1:9/v1/embeddings"):
            await embedder.embed(["x"])
    finally:
        await embedder.aclose()


async def test_the_config_selects_the_endpoint_and_the_service_searches_with_it(
    stub: Stub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_EMBEDDINGS_KEY", "sk-from-env")
    config = tmp_path / "team.toml"
    config.write_text(
        'data_dir = "data"\n[embedder]\nprovider = "openai"\n'
        f'url = "{stub.url}"\nmodel = "stub-embed"\ndimensions = {DIMS}\napi_key_env = "STUB_EMBEDDINGS_KEY"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    async with open_service(settings) as service:
        me = service.principal("triage")
        await service.memories.remember(me, "the customer prefers email")
        results = await service.memories.search(me, _request("the customer prefers email"))
        recorded = await service.store.get_meta("embedding_model")
    assert results.mode == "hybrid"
    assert results.results[0].content == "the customer prefers email"
    assert [r["input"] for r in stub.requests] == [["the customer prefers email"]] * 2  # stored, then asked
    assert recorded == "openai:stub-embed"
    assert {h.get("Authorization") for h in stub.headers} == {"Bearer sk-from-env"}


def test_config_names_what_the_openai_provider_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=r"embedder.*needs embedder.url, embedder.dimensions"):
        load_settings(None, data_dir=tmp_path, embedder={"provider": "openai", "model": "m"})
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    settings = load_settings(
        None,
        data_dir=tmp_path,
        embedder={
            "provider": "openai",
            "model": "m",
            "url": "http://x/v1",
            "dimensions": 3,
            "api_key_env": "NOT_SET_ANYWHERE",
        },
    )
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE is not set"):
        make_embedder(settings.embedder.provider, **settings.embedder.provider_options())


def _request(query: str) -> Any:
    from storage.models import SearchRequest

    return SearchRequest(query=query, limit=5)
