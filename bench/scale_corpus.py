"""The ``bench/scale.py`` corpus: a LoCoMo text pool, memories made of two turns plus noise, exact top k.

Memory *i* joins two pool turns *a*, *b* (``"<turn a> <turn b> (note i)"``) and its vector is
``normalise(0.8 v_a + 0.4 v_b + noise)`` (noise norm about 0.25). Deterministic per chunk of ``CHUNK``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 1000  # memories per chunk; the vectors of chunk c come from np.random.default_rng(c)
NOISE_NORM = 0.25


def locomo_dir() -> Path:
    for parent in [ROOT, *ROOT.parents]:
        candidate = parent / "shared" / "datasets" / "locomo"
        if candidate.is_dir():
            return candidate
    raise SystemExit("shared/datasets/locomo not found above the checkout")


def load_pool() -> tuple[list[str], list[str]]:
    """The LoCoMo turns (text pool) and questions (queries), in file order."""
    turns: list[str] = []
    questions: list[str] = []
    for path in sorted(locomo_dir().glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            if key.startswith("session_") and isinstance(value, list):
                turns.extend(f"{t['speaker']}: {t['text']}" for t in value)
        questions.extend(q["question"] for q in data["qa"] if q.get("category") in (1, 2, 3, 4))
    return turns, questions


class Corpus:
    """Memory *i*: its text and vector (deterministic; see the module doc)."""

    def __init__(self, turns: list[str], vectors: np.ndarray) -> None:
        self.turns = turns
        self.vectors = vectors

    def chunk(self, c: int) -> tuple[list[str], np.ndarray]:
        rng = np.random.default_rng(c)
        n = len(self.turns)
        a = rng.integers(0, n, CHUNK)
        b = rng.integers(0, n, CHUNK)
        noise = rng.standard_normal((CHUNK, self.vectors.shape[1])).astype(np.float32)
        noise *= NOISE_NORM / np.sqrt(self.vectors.shape[1])
        mixed = 0.8 * self.vectors[a] + 0.4 * self.vectors[b] + noise
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        texts = [
            f"{self.turns[x][:200]} {self.turns[y][:200]} (note {c * CHUNK + j})"
            for j, (x, y) in enumerate(zip(a, b, strict=True))
        ]
        return texts, mixed.astype(np.float32)

    def chunks(self, count: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first index, vectors) of each chunk covering memories ``0..count-1``."""
        for c in range((count + CHUNK - 1) // CHUNK):
            _, vectors = self.chunk(c)
            yield c * CHUNK, vectors[: max(0, min(CHUNK, count - c * CHUNK))]


def cached(cache: Path) -> np.ndarray | None:
    return np.load(cache) if cache.exists() else None


async def embed_pool(texts: list[str], cache: Path) -> np.ndarray:
    if (vectors := cached(cache)) is not None:
        return vectors
    from mcp_memory.embeddings import LocalOnnxEmbedder

    embedder = LocalOnnxEmbedder(batch_size=64, threads=2)
    vectors = np.asarray(await embedder.embed(texts), dtype=np.float32)
    await embedder.aclose()
    np.save(cache, vectors)
    return vectors


def exact_top(
    corpus: Corpus, size: int, queries: np.ndarray, k: int, namespace: int | None
) -> list[set[int]]:
    """The exact cosine top ``k`` memory indexes per query (one namespace when given)."""
    best = [np.empty(0, dtype=np.int64) for _ in queries]
    scores = [np.empty(0, dtype=np.float32) for _ in queries]
    for first, vectors in corpus.chunks(size):
        idx = np.arange(first, first + len(vectors))
        if namespace is not None:
            keep = idx % 8 == namespace
            idx, vectors = idx[keep], vectors[keep]
        sims = queries @ vectors.T
        for q in range(len(queries)):
            s = np.concatenate([scores[q], sims[q]])
            i = np.concatenate([best[q], idx])
            top = np.argsort(-s)[:k]
            scores[q], best[q] = s[top], i[top]
    return [set(b.tolist()) for b in best]
