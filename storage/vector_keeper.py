"""The keeper of the in-process vector index: builds it in the background, follows the store's log, saves it.

A backend supplies a ``VectorSource`` (its SQL, used from the keeper's thread only); see
``storage.vector_index`` for the index and the log, ``storage.ann`` for how a search uses it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, Protocol

import anyio.to_thread
import numpy as np
import numpy.typing as npt

from storage.ann import EXACT_BELOW_ROWS
from storage.vector_index import ChangeBatch, HnswIndex

__all__ = ["IndexState", "KeeperHolder", "VectorIndexKeeper", "VectorSource"]

logger = logging.getLogger("storage.vector_index")

IndexState = Literal["off", "building", "ready", "failed"]

#: Threads adding vectors during a (re)build: both cores of the reference machine (catch-up uses one).
BUILD_THREADS = 2
#: Rows read per statement while building or catching up.
BATCH_ROWS = 5_000
#: Seconds between background catch-ups (searches read back what is newer themselves; this bounds how
#: much they must read, and keeps the namespace counts fresh).
CATCH_UP_SECONDS = 2.0
#: Seconds between refreshes of the per-namespace document counts.
COUNTS_SECONDS = 30.0


class VectorSource(Protocol):
    """What a backend supplies (synchronous; called from the keeper's own thread only)."""

    def dimensions(self) -> int | None:
        """The store's embedding size, ``None`` while nothing is embedded."""

    def head(self) -> int:
        """The log position of the newest committed change (read before a build's scan)."""

    def scan(self, after_key: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` ``(key, vector)`` of embedded documents with ``key > after_key``, by key."""

    def changes(self, cursor: int, limit: int) -> ChangeBatch:
        """The documents changed after ``cursor`` (at most ``limit``), as of one snapshot."""

    def namespace_counts(self) -> dict[str | None, int]:
        """Embedded documents per namespace (an estimate is enough: it only chooses the search path)."""

    def close(self) -> None: ...


def _matrix(vectors: Iterable[bytes], dimensions: int) -> npt.NDArray[np.float32]:
    return np.frombuffer(b"".join(vectors), dtype="<f4").reshape(-1, dimensions).astype(np.float32)


class VectorIndexKeeper:
    """Owns one ``HnswIndex``, the log position it reflects, and the thread that builds and follows it.

    ``state``: ``building`` (search must use the exact path), ``ready``, ``failed`` (logged; exact path),
    ``off`` (never started). Only the keeper's thread changes the index (``apply``); a search takes
    ``snapshot()`` (the index and the position it reflects at least) and reads back, in its own
    snapshot, what changed after that position (``storage.ann``).
    """

    def __init__(self, source: VectorSource, *, save_path: Path | None = None, min_rows: int = 0) -> None:
        self._source = source
        self._save_path = save_path
        self._min_rows = min_rows
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._index: HnswIndex | None = None
        self._dirty = False
        self._rebuild = False
        self.cursor = 0
        self.namespace_counts: dict[str | None, int] = {}
        self._counted_at = 0.0
        self.state: IndexState = "off"
        self.build_seconds: float | None = None
        self.error: str | None = None

    # --- life cycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (build or load, then follow the log). Returns at once."""
        if self._thread is not None:
            return
        self.state = "building"
        self._thread = threading.Thread(target=self._run, name="vector-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, save the index when it changed (``save_path``), close the source."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with contextlib.suppress(Exception):  # saving is an optimisation of the next start
            self._save()
        self._source.close()

    def poke(self) -> None:
        """Ask the thread to catch up now (a search found the log too far ahead to apply inline)."""
        self._wake.set()

    def describe(self) -> dict[str, Any]:
        """State, items, position, memory (bytes) and build seconds, for ``describe()`` and the bench."""
        index = self._index
        return {
            "library": "hnswlib HNSW (cosine, f32)",
            "state": self.state,
            "items": len(index) if index is not None else 0,
            "dimensions": index.dimensions if index is not None else None,
            "cursor": self.cursor,
            "memory_bytes": index.memory_bytes if index is not None else 0,
            "build_seconds": self.build_seconds,
            "error": self.error,
        }

    # --- use by searches -----------------------------------------------------------------------------

    @property
    def index(self) -> HnswIndex | None:
        """The index when ready (and holding at least ``min_rows`` items), else ``None``."""
        index = self._index
        if self.state != "ready" or index is None or len(index) < self._min_rows:
            return None
        return index

    def snapshot(self) -> tuple[HnswIndex | None, int]:
        """The ready index (``None`` if not ready) and the log position it reflects at least."""
        with self._lock:
            return self.index, self.cursor

    def apply(self, batch: ChangeBatch) -> bool:
        """Apply changes read in one snapshot (by the keeper's thread, in snapshot order).

        Returns True when the index now reflects at least ``batch.cursor``.
        """
        if batch.restart:
            self.poke()
            return False
        with self._lock:
            index = self._index
            if index is None:
                return False
            if any(c.vector is not None and len(c.vector) != 4 * index.dimensions for c in batch.changes):
                self._rebuild = True  # a reindex changed the embedding size
                self._wake.set()
                return False
            gone = [c.key for c in batch.changes if c.vector is None]
            present = [c for c in batch.changes if c.vector is not None]
            if gone:
                index.remove(gone)
            if present:
                index.add(
                    [c.key for c in present], _matrix((c.vector or b"" for c in present), index.dimensions)
                )
            self.cursor = batch.cursor
            self._dirty = self._dirty or bool(batch.changes)
            return True

    # --- the thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            started = time.perf_counter()
            self._load_or_build()
            self.namespace_counts = self._source.namespace_counts()
            self._counted_at = time.monotonic()
            self.build_seconds = round(time.perf_counter() - started, 3)
            self.state = "ready"
            logger.info("vector index ready: %s", self.describe())
            while not self._stop.is_set():
                if self._rebuild:
                    self._rebuild = False
                    self._build()
                self._catch_up()
                if time.monotonic() - self._counted_at > COUNTS_SECONDS:
                    self.namespace_counts = self._source.namespace_counts()
                    self._counted_at = time.monotonic()
                self._wake.wait(CATCH_UP_SECONDS)
                self._wake.clear()
        except Exception as exc:  # derived data: log, keep serving on the exact path
            self.state = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
            logger.exception("the vector index failed; search uses the exact path")

    def _catch_up(self) -> None:
        while not self._stop.is_set():
            batch = self._source.changes(self.cursor, BATCH_ROWS)
            if batch.restart:
                logger.warning("the vector change log was pruned past this index: rebuilding")
                self._build()
                continue
            if not self.apply(batch) and self._rebuild:
                return
            if batch.complete:
                return

    def _load_or_build(self) -> None:
        dims = self._wait_for_dimensions()
        if dims is None:
            return
        saved = self._saved()
        if (
            saved is not None
            and saved.get("dimensions") == dims
            and int(saved["cursor"]) <= self._source.head()
        ):
            try:
                assert self._save_path is not None
                self._index = HnswIndex.load(self._save_path.parent / str(saved["file"]), dims)
                self.cursor = int(saved["cursor"])
                self._catch_up()
                return
            except Exception:  # a damaged or vanished copy is rebuilt
                logger.warning("the saved vector index could not be loaded: rebuilding", exc_info=True)
        self._build()

    def _saved(self) -> dict[str, Any] | None:
        """The saved copy's description: ``{"file", "cursor", "dimensions"}``, or ``None``."""
        if self._save_path is None or not self._save_path.exists():
            return None
        with contextlib.suppress(ValueError, OSError):
            saved = json.loads(self._save_path.read_text(encoding="utf-8"))
            if isinstance(saved, dict) and {"file", "cursor", "dimensions"} <= saved.keys():
                return saved
        return None

    def _wait_for_dimensions(self) -> int | None:
        while not self._stop.is_set():
            dims = self._source.dimensions()
            if dims is not None:
                return dims
            self._wake.wait(CATCH_UP_SECONDS)
            self._wake.clear()
        return None

    def _build(self) -> None:
        dims = self._source.dimensions()
        if dims is None:
            return
        cursor = self._source.head()
        index = HnswIndex(dims)
        after = -1
        while not self._stop.is_set():
            rows = self._source.scan(after, BATCH_ROWS)
            if not rows:
                break
            index.add([k for k, _ in rows], _matrix((v for _, v in rows), dims), threads=BUILD_THREADS)
            after = rows[-1][0]
        with self._lock:
            self._index = index
            self.cursor = cursor
            self._dirty = True
        self._catch_up()  # replays what changed during the scan (idempotent: states, not deltas)

    def _save(self) -> None:
        """Save the index under a fresh name, then point ``save_path`` (JSON) at it by an atomic rename.

        Several processes may save at once: each description names its own file and cursor, so the one
        that wins the rename is consistent; files no description names are removed.
        """
        if self._save_path is None or self._index is None or not self._dirty or self.state != "ready":
            return
        name = f"{self._save_path.name}.{secrets.token_hex(6)}.hnsw"
        with self._lock:
            self._index.save(self._save_path.parent / name)
            cursor = self.cursor
        previous = self._saved()
        tmp = self._save_path.with_name(name + ".json")
        tmp.write_text(
            json.dumps({"file": name, "cursor": cursor, "dimensions": self._index.dimensions}),
            encoding="utf-8",
        )
        tmp.replace(self._save_path)
        if previous is not None and previous["file"] != name:
            old = self._save_path.parent / str(previous["file"])
            for leftover in (old, old.with_name(old.name + ".npz")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        self._dirty = False


class KeeperHolder:
    """What a store mixes in to hold its keeper: started by the backend's ``open``, stopped by ``close``."""

    _vector_keeper: VectorIndexKeeper | None = None
    #: ``storage.ann.EXACT_BELOW_ROWS`` unless a test forces the index path.
    ann_exact_below_rows: int = EXACT_BELOW_ROWS

    def _hold_keeper(self, keeper: VectorIndexKeeper) -> None:
        self._vector_keeper = keeper
        keeper.start()

    async def _stop_vector_index(self) -> None:
        keeper, self._vector_keeper = self._vector_keeper, None
        if keeper is not None:
            await anyio.to_thread.run_sync(keeper.stop)

    def _vector_index_facts(self) -> dict[str, Any]:
        keeper = self._vector_keeper
        return keeper.describe() if keeper is not None else {"state": "off"}
