"""Cost of the audit log on a tool call: the same read with and without its audit record. Prints figures.

Each round reads one page of a room's timeline on one SQLite file (or the ``--backend-url`` store) three
ways: through the service inside one enclosing audited call (the calls join it: no record of their own),
through the service as the in-process Python API (each call appends one ``audit_log`` row,
``AuditedArea``), and as an MCP tool call over an in-process client session (the server's ``call_tool``
appends one row). The first two differ by the audit record alone (one small write transaction); the
third adds the MCP framing.

Run: ``python bench/audit_overhead.py [--calls N] [--backend-url URL]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client

from mcp_memory.config import load_settings
from mcp_memory.server import build_server
from mcp_memory.services import open_service
from storage import AuditFilter
from storage.models import utc_now


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms"


async def run(calls: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, object] = {"embedder": {"provider": "none"}}
        if url:
            overrides["storage"] = {"url": url}
        settings = load_settings(None, data_dir=Path(tmp), **overrides)
        async with open_service(settings) as service:
            me = service.principal("bench")
            room = await service.rooms.create_room(me)
            for i in range(20):
                await service.events.store_event(me, room.room_id, f"message {i}")
            direct: list[float] = []
            async with service.context.audit_log.call("bench", kind="tool", name="bench baseline"):
                for _ in range(calls):
                    start = time.perf_counter()
                    await service.events.list_events(me, room.room_id, limit=20)
                    direct.append((time.perf_counter() - start) * 1000)
            in_process: list[float] = []
            for _ in range(calls):
                start = time.perf_counter()
                await service.events.list_events(me, room.room_id, limit=20)
                in_process.append((time.perf_counter() - start) * 1000)
        audited: list[float] = []
        async with Client(build_server(settings, agent="bench")) as client:
            for _ in range(calls):
                start = time.perf_counter()
                result = await client.call_tool("list_events", {"room_id": room.room_id, "limit": 20})
                audited.append((time.perf_counter() - start) * 1000)
                assert not result.is_error
        appends: list[float] = []
        async with open_service(settings) as service:
            recorded = await service.store.list_audit(AuditFilter(name="list_events"), limit=500)
            for _ in range(calls):
                start = time.perf_counter()
                await service.context.audit_log.record(
                    "bench",
                    kind="tool",
                    name="bench",
                    ids=[room.room_id],
                    error=None,
                    duration_ms=1.0,
                    at=utc_now(),
                )
                appends.append((time.perf_counter() - start) * 1000)
    print(f"backend: {settings.storage_url.split(':', 1)[0]}, {calls} calls each")
    print(f"service call, no own record:   {percentiles(direct)}")
    print(f"service call + audit record:   {percentiles(in_process)}")
    print(f"MCP tool call + audit record:  {percentiles(audited)}")
    print(
        f"audit record (medians):        {statistics.median(in_process) - statistics.median(direct):.2f} ms"
    )
    print(f"MCP + audit (medians):         {statistics.median(audited) - statistics.median(direct):.2f} ms")
    print(f"one audit record alone:        {percentiles(appends)}")
    print(f"audit records written:         {len(recorded.items)} (capped at 500 by the listing)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--backend-url", default=None, help="e.g. postgresql://postgres@127.0.0.1:5432/db")
    args = parser.parse_args()
    anyio.run(run, args.calls, args.backend_url)


if __name__ == "__main__":
    main()
