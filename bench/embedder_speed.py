"""Speed of the local embedder: cold start, query latency, batch throughput, memory. Prints, asserts nothing.

Run: ``python bench/embedder_speed.py [--threads N] [--batch-size N] [--queries N] [--sentences N]``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import anyio

from mcp_memory.embeddings import LocalOnnxEmbedder

SUBJECTS = ["The customer", "Our billing agent", "The courier", "A support engineer", "The team lead"]
VERBS = ["reported", "refunded", "escalated", "closed", "reopened", "double-checked"]
OBJECTS = [
    "the invoice that was charged twice last month",
    "a parcel that arrived damaged after three weeks",
    "the password reset that never reached the inbox",
    "ticket T-12 about the broken export to CSV",
    "the subscription upgrade requested on Monday",
]


def sentences(count: int) -> list[str]:
    """``count`` distinct support-desk sentences of 8-20 tokens."""
    out = []
    for i in range(count):
        s, v, o = SUBJECTS[i % 5], VERBS[(i // 5) % 6], OBJECTS[(i // 30) % 5]
        out.append(f"{s} {v} {o} (case {i}).")
    return out


def rss_mb() -> float:
    """Peak resident set size of this process in MB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def main(args: argparse.Namespace) -> None:
    embedder = LocalOnnxEmbedder(batch_size=args.batch_size, threads=args.threads)
    start = time.perf_counter()
    await embedder.ready()
    cold_seconds = time.perf_counter() - start
    await embedder.embed_query("first call allocates buffers")

    latencies_ms = []
    for i in range(args.queries):
        t0 = time.perf_counter()
        await embedder.embed_query(f"who was charged twice for invoice {i}?")
        latencies_ms.append((time.perf_counter() - t0) * 1000)
    cuts = statistics.quantiles(latencies_ms, n=100)

    corpus = sentences(args.sentences)
    t0 = time.perf_counter()
    await embedder.embed(corpus)
    throughput = len(corpus) / (time.perf_counter() - t0)
    await embedder.aclose()

    print(f"embedder            {embedder.name} ({embedder.dimensions} dims, {embedder.threads} threads)")
    print(f"cold start          {cold_seconds:.2f} s (ONNX session + tokenizer)")
    print(f"one query           p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms over {args.queries}")
    print(f"throughput          {throughput:.0f} sentences/s at batch {args.batch_size} over {len(corpus)}")
    print(f"peak RSS            {rss_mb():.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (default min(2, CPUs))")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--sentences", type=int, default=512)
    anyio.run(main, parser.parse_args())
