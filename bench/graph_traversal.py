"""Latency of ``traverse_graph`` (recursive CTE) on a random graph, SQLite and PostgreSQL. Prints, asserts nothing.

Run: ``python bench/graph_traversal.py [--entities N] [--relations N] [--queries N] [--postgres DSN]``.
Builds one namespace with ``--entities`` entities and ``--relations`` random typed relations (cycles
included), then times ``--queries`` traversals from random starts for each depth and node cap, and
prints p50/p95 in milliseconds, the mean node count and how often a cap cut the walk. ``--postgres``
names a server DSN (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``): a throwaway database is
created on it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import anyio

from storage import MemoryStore, open_store
from storage.models import EntityRef, NewRelation

NAMESPACE = "shared-bench"
TYPES = ["relates_to", "works_at", "part_of", "depends_on"]


async def build(store: MemoryStore, entities: int, relations: int, rng: random.Random) -> list[str]:
    """Add ``relations`` random relations between ``entities`` entities; return the entity ids."""
    for _ in range(relations):
        a, b = rng.randrange(entities), rng.randrange(entities)
        await store.add_relation(
            NewRelation(
                namespace=NAMESPACE,
                source=EntityRef(type="node", name=f"n{a}"),
                type=rng.choice(TYPES),
                target=EntityRef(type="node", name=f"n{b}"),
            )
        )
    ids = []
    for n in range(entities):
        try:
            ids.append((await store.find_entity(NAMESPACE, f"n{n}")).entity_id)
        except Exception:  # an entity no relation touched
            continue
    return ids


async def measure(store: MemoryStore, ids: list[str], queries: int, rng: random.Random) -> None:
    print(f"{'depth':>5} {'max_nodes':>9} {'p50 ms':>8} {'p95 ms':>8} {'nodes':>7} {'truncated':>9}")
    for depth in (1, 2, 3, 4, 6):
        for cap in (100, 500):
            times, nodes, cut = [], [], 0
            for _ in range(queries):
                start = rng.choice(ids)
                t0 = time.perf_counter()
                walk = await store.traverse_graph(start, max_depth=depth, max_nodes=cap)
                times.append((time.perf_counter() - t0) * 1000)
                nodes.append(len(walk.nodes))
                cut += walk.truncated
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            print(
                f"{depth:>5} {cap:>9} {statistics.median(times):>8.2f} {p95:>8.2f}"
                f" {statistics.mean(nodes):>7.1f} {cut / queries:>9.0%}"
            )


async def run_one(label: str, url: str, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    store = await open_store(url)
    try:
        t0 = time.perf_counter()
        ids = await build(store, args.entities, args.relations, rng)
        print(
            f"\n{label}: {len(ids)} entities, {args.relations} relations built in {time.perf_counter() - t0:.1f} s"
        )
        await measure(store, ids, args.queries, rng)
    finally:
        await store.close()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await run_one("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.postgres:
        import asyncpg

        name = f"mcpmem_bench_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(args.postgres)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                await run_one("postgres", urlsplit(args.postgres)._replace(path=f"/{name}").geturl(), args)
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--relations", type=int, default=6000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--postgres", default=None, help="server DSN; omit to bench SQLite only")
    anyio.run(main, parser.parse_args())
