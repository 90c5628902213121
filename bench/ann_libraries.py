"""usearch vs hnswlib vs faiss HNSW on the ``bench/scale.py`` corpus: build time, query time, recall, memory.

Prints, asserts nothing. Same graph parameters for all three (M/connectivity 16, ef_construction /
expansion_add 128, ef_search / expansion_search 64 unless ``--ef``), cosine over L2-normalised float32
vectors, one thread. Recall@10 against NumPy's exact top 10, over LoCoMo questions as queries.

Run: ``python bench/ann_libraries.py --memories 20000 [--libraries usearch,hnswlib,faiss]``
(needs ``pip install hnswlib faiss-cpu`` for the two others; usearch is a dependency).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_corpus import Corpus, load_pool  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build(name: str, data: np.ndarray, ef: int) -> tuple[object, float]:
    t0 = time.perf_counter()
    keys = np.arange(len(data), dtype=np.uint64)
    if name == "usearch":
        from usearch.index import Index

        index = Index(ndim=data.shape[1], metric="cos", dtype="f32", connectivity=16, expansion_add=128)
        index.expansion_search = ef
        index.add(keys, data, threads=1)
    elif name == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=data.shape[1])
        index.init_index(max_elements=len(data), M=16, ef_construction=128)
        index.set_num_threads(1)
        index.add_items(data, keys)
        index.set_ef(ef)
    else:
        import faiss

        faiss.omp_set_num_threads(1)
        index = faiss.IndexHNSWFlat(data.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 128
        index.hnsw.efSearch = ef
        index.add(data)
    return index, time.perf_counter() - t0


def query(name: str, index: object, q: np.ndarray, k: int) -> set[int]:
    if name == "usearch":
        return {int(x) for x in index.search(q, k, threads=1).keys}  # type: ignore[attr-defined]
    if name == "hnswlib":
        labels, _ = index.knn_query(q, k=k)  # type: ignore[attr-defined]
        return {int(x) for x in labels[0]}
    _, labels = index.search(q[None, :], k)  # type: ignore[attr-defined]
    return {int(x) for x in labels[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, default=20_000)
    parser.add_argument("--libraries", default="usearch,hnswlib,faiss")
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--pool", default="/tmp/mcpmem-scale/pool-vectors.npy")
    args = parser.parse_args()
    turns, questions = load_pool()
    corpus = Corpus(turns, np.load(args.pool))
    data = np.concatenate([v for _, v in corpus.chunks(args.memories)])
    import anyio

    from mcp_memory.embeddings import LocalOnnxEmbedder

    async def embed() -> np.ndarray:
        e = LocalOnnxEmbedder(batch_size=32, threads=1)
        out = np.asarray(await e.embed(questions[:200]), dtype=np.float32)
        await e.aclose()
        return out

    queries = anyio.run(embed)
    truth = [set(np.argsort(-(data @ q))[:10].tolist()) for q in queries]
    print(f"{args.memories} x {data.shape[1]} vectors, {len(queries)} queries, ef_search {args.ef}")
    for name in args.libraries.split(","):
        before = rss_mb()
        index, seconds = build(name, data, args.ef)
        grown = rss_mb() - before
        times, found = [], 0
        for q, t in zip(queries, truth, strict=True):
            c0 = time.process_time()
            got = query(name, index, q, 10)
            times.append((time.process_time() - c0) * 1000)
            found += len(got & t)
        print(
            f"{name:8} build {seconds:6.1f} s  query cpu p50 {np.percentile(times, 50):.2f} ms"
            f" p95 {np.percentile(times, 95):.2f} ms  recall@10 {found / (10 * len(queries)):.3f}"
            f"  RSS +{grown:.0f} MB (peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f})"
        )
        del index


if __name__ == "__main__":
    main()
