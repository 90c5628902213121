"""Embedders: turn text into unit-length vectors for the vector half of hybrid search.

One narrow async ``Embedder`` protocol (``base.py``) and its providers, one module each, chosen by name
with ``make_embedder``:

- ``"local"`` (default, ``local.py``): ``LocalOnnxEmbedder``, all-MiniLM-L6-v2 quantised to int8 and run
  with onnxruntime + tokenizers. Offline right after ``pip install``; no PyTorch, no download.
- ``"fastembed"`` (``fastembed_provider.py``): any fastembed ONNX model from a local folder or cache.
- ``"sentence-transformers"`` (``sentence_transformers_provider.py``): a SentenceTransformer model folder
  on the CPU (PyTorch; the ``sentence-transformers`` extra).
- ``"openai"`` (``openai_http.py``): an OpenAI-compatible ``/embeddings`` endpoint (OpenAI, Ollama, vLLM)
  with batching, timeouts and retries.
- ``"none"``: no embedder at all. ``make_embedder`` returns ``None`` and the service searches lexically
  only (FTS5 / Postgres full text); nothing stores a vector.

Adding a provider means writing a module with a class that satisfies ``Embedder`` and adding one entry
to ``_PROVIDERS``; callers keep calling ``make_embedder(settings.embedder.provider, **options)``.
Provider modules import their heavy libraries lazily, so importing this package stays cheap.
Provenance, licences and measured speed of the local model: ``docs/embedder.md``.

Error tree::

    EmbedderUnavailableError   model files missing or unloadable, or the embedder is closed
    ValueError                 ``make_embedder`` got an unknown provider name
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_memory.embeddings.base import Embedder, EmbedderUnavailableError
from mcp_memory.embeddings.fastembed_provider import FastEmbedEmbedder
from mcp_memory.embeddings.local import LocalOnnxEmbedder
from mcp_memory.embeddings.openai_http import OpenAIEmbedder
from mcp_memory.embeddings.sentence_transformers_provider import SentenceTransformerEmbedder

__all__ = [
    "Embedder",
    "EmbedderUnavailableError",
    "FastEmbedEmbedder",
    "LocalOnnxEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "make_embedder",
    "provider_names",
]

_PROVIDERS: dict[str, Callable[..., Embedder] | None] = {
    "fastembed": FastEmbedEmbedder,
    "local": LocalOnnxEmbedder,
    "none": None,  # lexical-only search: no embedder, no vectors
    "openai": OpenAIEmbedder,
    "sentence-transformers": SentenceTransformerEmbedder,
}
"""Provider name -> factory taking keyword options. A new provider is one entry here."""


def provider_names() -> list[str]:
    """Names ``make_embedder`` accepts, sorted."""
    return sorted(_PROVIDERS)


def make_embedder(spec: str = "local", **options: Any) -> Embedder | None:
    """Build the embedder a config names, without loading its model.

    Args:
        spec: provider name, case-insensitive: one of ``provider_names()``.
        **options: keyword arguments of the provider's class, e.g. ``batch_size=32, threads=1`` for
            ``"local"``; ``EmbedderSettings.provider_options()`` builds them from the config.

    Returns:
        The embedder, or ``None`` for ``"none"``: the service then stores no vectors and searches
        lexically only. Call ``start_warmup()`` on it to load the model in the background.

    Raises:
        ValueError: unknown ``spec`` (the message lists the known ones).
        EmbedderUnavailableError: the provider's package or model files are missing.
        TypeError: an option the provider does not take.
    """
    key = spec.strip().lower()
    if key not in _PROVIDERS:
        raise ValueError(f"unknown embedder {spec!r}: choose one of {', '.join(provider_names())}")
    factory = _PROVIDERS[key]
    return None if factory is None else factory(**options)
