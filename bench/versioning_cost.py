"""Cost of snapshots, rollback, branch and merge against namespace size. Prints figures, asserts nothing.

Claim under test (docs/versioning.md): a snapshot is O(1) (a change-log position), a rollback and a merge
are O(changes since), a branch is O(size of the namespace). For each size N the namespace gets N memories
(8-dimensional embeddings) and N/10 facts; then it times, as p50/p95 over ``--repeat`` runs:
``snapshot``, ``rollback`` of ``--changes`` writes (half adds, half fact sets), one ``branch`` and one
``merge`` of ``--changes`` branch writes.

Run: ``python bench/versioning_cost.py [--sizes 500 5000] [--changes 20] [--repeat 7] [--url URL]``
(default: a SQLite file in a temporary directory; ``--url postgresql://...`` for an empty database).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial

import anyio

from storage import MemoryStore, NotFoundError, open_store
from storage.models import NewMemory

DIMENSIONS = 8


def vector(i: int) -> list[float]:
    values = [0.0] * DIMENSIONS
    values[i % DIMENSIONS] = 1.0
    return values


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):8.2f} ms  p95 {p95:8.2f} ms"


async def fill(store: MemoryStore, namespace: str, size: int) -> None:
    for i in range(size):
        await store.add_memory(
            NewMemory(namespace=namespace, content=f"memory {i} of {namespace}"), vector(i)
        )
    for i in range(max(1, size // 10)):
        await store.set_fact(namespace, f"fact-{i}", {"i": i})


async def churn(store: MemoryStore, namespace: str, changes: int, tag: str) -> None:
    for i in range(changes):
        if i % 2:
            await store.add_memory(NewMemory(namespace=namespace, content=f"change {tag} {i}"), vector(i))
        else:
            key = f"fact-{i % 7}"
            try:
                version = (await store.get_fact(namespace, key)).version
            except NotFoundError:
                version = 0
            await store.set_fact(namespace, key, {"changed": tag}, expected_version=version)


async def run(url: str, sizes: list[int], changes: int, repeat: int) -> None:
    store = await open_store(url, embedding_dimensions=DIMENSIONS)
    try:
        print(f"backend {store.backend}; {changes} changes per rollback/merge; {repeat} runs each")
        for size in sizes:
            namespace = f"shared-bench-{size}"
            started = time.perf_counter()
            await fill(store, namespace, size)
            print(
                f"\nN = {size} memories, {max(1, size // 10)} facts (filled in {time.perf_counter() - started:.1f} s)"
            )
            snap_ms = [await timed(partial(store.create_snapshot, namespace, "bench")) for _ in range(repeat)]
            print(f"  snapshot            {summary(snap_ms)}")
            rollback_ms = []
            for r in range(repeat):
                snapshot = await store.create_snapshot(namespace, "before churn")
                await churn(store, namespace, changes, f"r{r}")
                rollback_ms.append(await timed(partial(store.rollback, namespace, snapshot.snapshot_id)))
            print(f"  rollback            {summary(rollback_ms)}")
            snapshot = await store.create_snapshot(namespace, "fork")
            branch = f"{namespace}-branch"
            branch_ms = await timed(partial(store.branch, namespace, snapshot.snapshot_id, branch))
            print(f"  branch (one run)    {branch_ms:8.2f} ms")
            await churn(store, branch, changes, "branch")
            merge_ms = await timed(partial(store.merge, branch, namespace))
            print(f"  merge (one run)     {merge_ms:8.2f} ms")
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{folder}/bench.db"
        anyio.run(run, url, args.sizes, args.changes, args.repeat)


if __name__ == "__main__":
    main()
