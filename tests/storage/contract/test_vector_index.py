"""The in-process vector index on both backends: it follows other handles' writes, and search through it
never hides an item the caller may see nor ranks one it may not (``storage.ann``)."""

from __future__ import annotations

import time
from typing import Any

import anyio
import numpy as np
import pytest

from storage import MemoryStore
from storage.models import NewMemory
from tests.storage.contract.conftest import EMBEDDING_DIMENSIONS, StoreFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

DIMS = EMBEDDING_DIMENSIONS


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIMS)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


async def wait_ready(store: MemoryStore, items: int | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    info: dict[str, Any] = {}
    while time.monotonic() < deadline:
        info = (await store.describe())["vector_index"]
        if info["state"] == "ready" and (items is None or info["items"] == items):
            return info
        await anyio.sleep(0.05)
    raise AssertionError(f"index not ready: {info}")


async def test_index_follows_writes_and_deletes_of_other_handles_and_restarts(
    store_factory: StoreFactory,
) -> None:
    rng = np.random.default_rng(3)
    vectors = unit(rng, 30)
    url = await store_factory.new_url()
    writer = await store_factory.open(url)
    ids = [
        (await writer.add_memory(NewMemory(namespace="ns", content=f"m{i}"), vectors[i].tolist())).memory_id
        for i in range(20)
    ]
    reader = await store_factory.open(url)
    await wait_ready(reader, 20)
    # Writes of another handle (its own connections, as another process would) reach the index.
    for i in range(20, 30):
        await writer.add_memory(NewMemory(namespace="ns", content=f"m{i}"), vectors[i].tolist())
    await writer.delete_memory(ids[0])
    await wait_ready(reader, 29)
    await reader.close()
    # A write while no reader is open is replayed from the log (SQLite: after loading the saved copy).
    await writer.delete_memory(ids[1])
    again = await store_factory.open(url)
    info = await wait_ready(again, 28)
    if store_factory.backend == "sqlite":
        assert info["cursor"] == 32  # 30 inserts and 2 deletes logged; loaded, then 1 change replayed
