"""The ``fastembed`` provider: any ONNX model fastembed knows, loaded offline from a local folder or cache.

Install with ``pip install "mcp-memory[fastembed]"``. fastembed never downloads here: it is always
constructed with ``local_files_only=True``. Give ``model_path``, a folder holding ``model.onnx``,
``tokenizer.json``, ``tokenizer_config.json`` (and optionally ``config.json``,
``special_tokens_map.json``), or a ``cache_dir`` that fastembed populated earlier on a machine with
network. ``model`` names the fastembed model description (pooling, normalisation, dimensions), e.g.
``sentence-transformers/all-MiniLM-L6-v2`` (384 dimensions, mean pooling: the same vectors as the
``local`` provider when given the same ONNX file).
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

__all__ = ["DEFAULT_FASTEMBED_MODEL", "FastEmbedEmbedder"]

DEFAULT_FASTEMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""fastembed's name for all-MiniLM-L6-v2 (384 dimensions, mean pooling, normalised)."""

INSTALL_HINT = 'pip install "mcp-memory[fastembed]"'


class FastEmbedEmbedder(ThreadedModelEmbedder):
    """Embeds with ``fastembed.TextEmbedding`` in worker threads; lazy, offline, unit-length vectors.

    ``name`` is ``fastembed:<model>`` (the recorded identity: a store indexed by another model or
    provider is detected). ``dimensions`` comes from ``dimensions=`` or fastembed's model catalogue.
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_FASTEMBED_MODEL,
        model_path: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        dimensions: int | None = None,
        batch_size: int = 32,
        threads: int | None = 1,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        """Check the options and that fastembed is installed; load nothing.

        Args:
            model: fastembed model name (``TextEmbedding.list_supported_models()``).
            model_path: local folder with the model's files (``specific_model_path``).
            cache_dir: fastembed cache folder, used when ``model_path`` is not given.
            dimensions: expected vector size; default: the catalogue's size for ``model``.
            batch_size: texts per inference call (>= 1).
            threads: onnxruntime threads (``None``: fastembed's default).
            query_prefix: prepended to every query (e.g. ``"query: "`` for E5 models).
            document_prefix: prepended to every stored text (e.g. ``"passage: "``).

        Raises:
            EmbedderUnavailableError: fastembed is not installed, ``model`` is unknown to it, or
                ``model_path`` is not a folder.
            ValueError: ``batch_size`` or ``dimensions`` below 1.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if dimensions is not None and dimensions < 1:
            raise ValueError(f"dimensions must be >= 1, got {dimensions}")
        try:
            from fastembed import TextEmbedding
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"the fastembed provider needs the fastembed package ({exc}): run `{INSTALL_HINT}`"
            ) from exc
        known = {m["model"].lower(): m for m in TextEmbedding.list_supported_models()}
        description = known.get(model.lower())
        if description is None:
            raise EmbedderUnavailableError(
                f"fastembed does not know the model {model!r}: use a name from "
                "fastembed.TextEmbedding.list_supported_models(), e.g. " + DEFAULT_FASTEMBED_MODEL
            )
        self.model = model
        self.model_path = Path(model_path) if model_path is not None else None
        if self.model_path is not None and not self.model_path.is_dir():
            raise EmbedderUnavailableError(f"embedder.model_path {self.model_path} is not a folder")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.batch_size = batch_size
        self.threads = threads
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        catalogue_dimensions = int(description["dim"])
        self._dimensions = dimensions if dimensions is not None else catalogue_dimensions
        self._model = LazyModel(self._load, "fastembed")

    @property
    def name(self) -> str:
        """``fastembed:<model>``."""
        return f"fastembed:{self.model}"

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        return self._dimensions

    def _load(self) -> Any:
        from fastembed import TextEmbedding

        options: dict[str, Any] = {"local_files_only": True, "threads": self.threads}
        if self.model_path is not None:
            options["specific_model_path"] = str(self.model_path)
        if self.cache_dir is not None:
            options["cache_dir"] = str(self.cache_dir)
        try:
            return TextEmbedding(self.model, **options)
        except Exception as exc:  # fastembed raises ValueError/OSError/onnxruntime errors
            where = self.model_path or self.cache_dir or "fastembed's default cache"
            raise EmbedderUnavailableError(
                f"cannot load fastembed model {self.model!r} from {where} (downloads are disabled): {exc}"
            ) from exc

    def _embed_sync(self, texts: list[str]) -> list[list[float]]:
        model = self._model.get()
        try:
            rows = list(model.embed(texts, batch_size=self.batch_size))
        except Exception as exc:  # onnxruntime errors are untyped
            raise EmbedderUnavailableError(f"fastembed model {self.model!r} failed: {exc}") from exc
        return normalise_rows(rows, dimensions=self._dimensions, source=self.name)
