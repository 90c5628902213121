"""An in-process approximate nearest-neighbour index of the search documents' vectors (hnswlib HNSW).

Backend-neutral: a backend supplies a ``VectorSource`` (its SQL); ``storage.vector_keeper`` keeps the
index. The index is derived data: ``VectorIndexKeeper`` builds it in a background thread when the store
opens (from a saved copy when one matches, then caught up) and, until it is ready, search takes the
exact path. It follows
the store's own change sequence (a ``vector_changes`` log filled by triggers on ``search_docs``), so the
writes of every process reach it; a change carries the document's vector as of the reader's snapshot,
never as of the write, so replaying is idempotent and nothing stale survives a rollback, merge, forget or
reindex (each of them writes ``search_docs``, and the trigger logs it).

Why hnswlib (``docs/search.md``, ``bench/ann_libraries.py``): on this corpus at the same graph parameters
it built faster and answered faster than usearch 2.26 and faiss's HNSW at equal recall, it updates and
deletes by key, and it saves/loads a file. usearch 2.26.6 was tried first and dropped: importing it
before ``onnxruntime`` (the local embedder) crashes the process (segmentation fault), which is the order
a server starts them in; faiss's HNSW cannot delete.

"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["ChangeBatch", "HnswIndex", "SemanticVectorIndex", "VectorChange", "VectorHit"]

#: HNSW parameters: M 16 and ef_construction 128 (the graph), ef_search 128, raised to k when k is larger
#: (recall@10 0.99 at 100k on the LoCoMo-pool corpus, ``bench/scale.py``).
M = 16
EF_CONSTRUCTION = 128
EF_SEARCH = 128
#: Slots allocated at first; doubled when full.
INITIAL_CAPACITY = 10_000


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


class HnswIndex:
    """``SemanticVectorIndex`` on an hnswlib HNSW index (cosine, float32). Thread-safe (one lock).

    Keys are non-negative integers (documents' ids). A removed key is marked deleted (hnswlib keeps its
    slot; adding the key again revives and updates it). Capacity doubles as needed.
    """

    def __init__(
        self, dimensions: int, capacity: int = INITIAL_CAPACITY, *, saved: Path | None = None
    ) -> None:
        import hnswlib

        self._dimensions = dimensions
        self._lock = threading.Lock()
        self._index = hnswlib.Index(space="cosine", dim=dimensions)
        if saved is None:
            self._index.init_index(max_elements=capacity, M=M, ef_construction=EF_CONSTRUCTION)
        else:
            self._index.load_index(str(saved))
        self._index.set_num_threads(1)
        self._known = np.zeros(0, dtype=bool)  # the key has a slot in the index (live or deleted)
        self._live = np.zeros(0, dtype=bool)

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _room_for_keys(self, top: int) -> None:
        if top >= len(self._known):
            size = max(top + 1, 2 * len(self._known), 1024)
            self._known = np.concatenate([self._known, np.zeros(size - len(self._known), dtype=bool)])
            self._live = np.concatenate([self._live, np.zeros(size - len(self._live), dtype=bool)])

    def add(self, keys: Sequence[int], vectors: npt.NDArray[np.float32], *, threads: int = 1) -> None:
        if not len(keys):
            return
        ids = np.asarray(keys, dtype=np.int64)
        if ids.min() < 0:
            raise ValueError("vector index keys must be >= 0")
        with self._lock:
            self._room_for_keys(int(ids.max()))
            slots = len(np.unique(ids[~self._known[ids]]))
            needed = self._index.get_current_count() + slots
            if needed > self._index.get_max_elements():
                self._index.resize_index(max(needed, 2 * self._index.get_max_elements()))
            self._index.add_items(np.ascontiguousarray(vectors, dtype=np.float32), ids, num_threads=threads)
            self._known[ids] = True
            self._live[ids] = True

    def remove(self, keys: Sequence[int]) -> None:
        with self._lock:
            for key in keys:
                if 0 <= key < len(self._live) and self._live[key]:
                    self._index.mark_deleted(int(key))
                    self._live[key] = False

    def search(self, query: npt.NDArray[np.float32], k: int) -> list[VectorHit]:
        with self._lock:
            k = min(k, int(self._live.sum()))
            self._index.set_ef(max(EF_SEARCH, k))
            while k > 0:
                try:
                    labels, distances = self._index.knn_query(np.asarray(query, dtype=np.float32), k=k)
                    break
                except RuntimeError:  # fewer reachable live items than k (after many deletions)
                    k //= 2
            else:
                return []
        return [VectorHit(int(key), float(d)) for key, d in zip(labels[0], distances[0], strict=True)]

    def __len__(self) -> int:
        return int(self._live.sum())

    @property
    def memory_bytes(self) -> int:
        """Estimate: each slot holds the vector, its level-0 links (2 M), label and header."""
        per_slot = 4 * self._dimensions + 4 * 2 * M + 16
        return int(self._index.get_max_elements()) * per_slot + 2 * len(self._known)

    def save(self, path: Path) -> None:
        """Write the index to ``path`` and its key maps to ``path`` + ``.npz``."""
        with self._lock:
            self._index.save_index(str(path))
            with path.with_name(path.name + ".npz").open("wb") as out:
                np.savez(out, known=self._known, live=self._live)

    @classmethod
    def load(cls, path: Path, dimensions: int) -> HnswIndex:
        index = cls(dimensions, saved=path)
        with np.load(path.with_name(path.name + ".npz")) as maps:
            index._known = maps["known"].astype(bool)
            index._live = maps["live"].astype(bool)
        return index
