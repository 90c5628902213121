"""An in-process approximate nearest-neighbour index of the search documents' vectors (usearch HNSW).

Backend-neutral: a backend supplies a ``VectorSource`` (its SQL); ``storage.vector_keeper`` keeps the
index. The index is derived data: ``VectorIndexKeeper`` builds it in a background thread when the store
opens (from a saved copy when one matches, then caught up) and, until it is ready, search takes the
exact path. It follows
the store's own change sequence (a ``vector_changes`` log filled by triggers on ``search_docs``), so the
writes of every process reach it; a change carries the document's vector as of the reader's snapshot,
never as of the write, so replaying is idempotent and nothing stale survives a rollback, merge, forget or
reindex (each of them writes ``search_docs``, and the trigger logs it).

Why usearch (``docs/search.md``, ``bench/ann_libraries.py``): at the same graph parameters it built and
searched as fast as hnswlib and faiss's HNSW on this corpus, supports removal by key (hnswlib only marks
deleted labels; faiss's HNSW cannot remove), and saves/loads a file.

Constants (measured with ``bench/scale.py`` on 2 cores): connectivity 16 and expansion_add 128 (the
library's defaults), expansion_search 128 (recall@10 >= 0.98 on the LoCoMo-pool corpus at 100k).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["ChangeBatch", "SemanticVectorIndex", "USearchIndex", "VectorChange", "VectorHit"]

#: HNSW parameters (usearch defaults for the graph; search expansion raised for recall, see module doc).
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 128


@dataclass(frozen=True)
class VectorHit:
    """One neighbour: the document's integer ``key`` and its cosine distance (``1 - cos``, 0 = same)."""

    key: int
    distance: float


@dataclass(frozen=True)
class VectorChange:
    """The state of one document as of a snapshot: its ``vector`` (float32 LE bytes) or ``None`` (gone)."""

    key: int
    vector: bytes | None


@dataclass(frozen=True)
class ChangeBatch:
    """Changes read in one snapshot, and the log position (``cursor``) that snapshot reflects.

    ``complete`` is False when more changes were pending than were read (read again from ``cursor``).
    ``restart`` is True when the log no longer holds the changes after the caller's cursor (pruned):
    the index must be rebuilt.
    """

    changes: tuple[VectorChange, ...]
    cursor: int
    complete: bool = True
    restart: bool = False


class SemanticVectorIndex(Protocol):
    """The narrow interface the rest of storage uses; keys are documents' integer ids."""

    @property
    def dimensions(self) -> int: ...

    def add(self, keys: Sequence[int], vectors: npt.NDArray[np.float32], *, threads: int = 1) -> None:
        """Insert or replace the vectors of ``keys`` (float32[len(keys), dimensions]) using ``threads``."""

    def remove(self, keys: Sequence[int]) -> None:
        """Remove ``keys`` (absent keys are ignored)."""

    def search(self, query: npt.NDArray[np.float32], k: int) -> list[VectorHit]:
        """The ``k`` nearest keys to ``query`` by cosine distance, nearest first (approximate)."""

    def __len__(self) -> int: ...

    @property
    def memory_bytes(self) -> int: ...


class USearchIndex:
    """``SemanticVectorIndex`` on a usearch HNSW index (cosine, float32). Thread-safe (one lock)."""

    def __init__(self, dimensions: int) -> None:
        from usearch.index import Index

        self._dimensions = dimensions
        self._lock = threading.Lock()
        self._index = Index(
            ndim=dimensions,
            metric="cos",
            dtype="f32",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def add(self, keys: Sequence[int], vectors: npt.NDArray[np.float32], *, threads: int = 1) -> None:
        if not len(keys):
            return
        ids = np.asarray(keys, dtype=np.uint64)
        with self._lock:
            present = [k for k in ids.tolist() if self._index.contains(k)]
            if present:
                self._index.remove(present)
            self._index.add(ids, np.ascontiguousarray(vectors, dtype=np.float32), threads=threads)

    def remove(self, keys: Sequence[int]) -> None:
        with self._lock:
            present = [k for k in keys if self._index.contains(k)]
            if present:
                self._index.remove(present)

    def search(self, query: npt.NDArray[np.float32], k: int) -> list[VectorHit]:
        with self._lock:
            if len(self._index) == 0:
                return []
            self._index.expansion_search = max(EXPANSION_SEARCH, k)  # type: ignore[misc]
            matches = self._index.search(
                np.asarray(query, dtype=np.float32), min(k, len(self._index)), threads=1
            )
        return [VectorHit(int(key), float(d)) for key, d in zip(matches.keys, matches.distances, strict=True)]

    def __len__(self) -> int:
        return len(self._index)

    @property
    def memory_bytes(self) -> int:
        return int(self._index.memory_usage)

    def save(self, path: Path) -> None:
        with self._lock:
            self._index.save(str(path))

    @classmethod
    def load(cls, path: Path, dimensions: int) -> USearchIndex:
        index = cls(dimensions)
        index._index.load(str(path))
        return index
