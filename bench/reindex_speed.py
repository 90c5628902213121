"""Speed of ``mcp-memory reindex``: items re-embedded per second on SQLite or PostgreSQL. Prints, asserts nothing.

Fills a fresh store with ``--items`` memories and events written without vectors (``provider = "none"``),
then re-embeds them with the local MiniLM through ``mcp_memory.services.reindex.reindex`` (what the CLI
runs), and prints the wall time, the throughput, and the embedder's share of it.

Run: ``python bench/reindex_speed.py [--items N] [--batch-size N] [--dsn postgresql://...]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import anyio

from mcp_memory.config import load_settings
from mcp_memory.embeddings import LocalOnnxEmbedder
from mcp_memory.services import open_configured_store, open_service
from mcp_memory.services.reindex import reindex


async def main(items: int, batch_size: int, dsn: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        storage = {"url": dsn} if dsn else {}
        settings = load_settings(None, data_dir=Path(tmp), embedder={"provider": "none"}, storage=storage)
        async with open_service(settings) as service:
            me = service.principal("bench")
            room = await service.rooms.create_room(me, name="bench")
            for i in range(items):
                text = f"Support note {i}: the customer asked about invoice {i % 97} and delivery {i % 31}."
                if i % 2:
                    await service.events.store_event(me, room.room_id, text)
                else:
                    await service.memories.remember(me, text, namespace="shared-bench")
        store = await open_configured_store(settings)
        embedder = LocalOnnxEmbedder(batch_size=batch_size)
        await embedder.ready()
        embed_seconds = 0.0
        original = embedder.embed

        async def timed_embed(texts: list[str]) -> list[list[float]]:
            nonlocal embed_seconds
            started = time.perf_counter()
            try:
                return await original(texts)
            finally:
                embed_seconds += time.perf_counter() - started

        embedder.embed = timed_embed  # type: ignore[method-assign]
        try:
            report = await reindex(store, embedder, batch_size=batch_size)
        finally:
            await embedder.aclose()
            await store.close()
    backend = "postgres" if dsn else "sqlite"
    print(f"backend             {backend}")
    print(f"items               {report.items} (memories and events)")
    print(f"batch size          {batch_size}")
    print(f"wall time           {report.seconds:.2f} s")
    print(f"throughput          {report.items / report.seconds:.0f} items/s")
    print(f"embedder share      {embed_seconds / report.seconds:.0%} of the wall time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dsn", default=None, help="PostgreSQL DSN of an empty database (default: SQLite)")
    args = parser.parse_args()
    anyio.run(main, args.items, args.batch_size, args.dsn)
