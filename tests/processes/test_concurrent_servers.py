"""Issue 3 proof: many server processes on one database keep the room index gapless and claims atomic.

8 OS processes each drive their own ``mcp-memory serve`` (stdio, SDK client) and call ``store_event``
200 times into one room; 16 server processes race ``claim_task`` on one task. Both run on SQLite (one
data dir) and on PostgreSQL (one database). Wall times are printed (figures, not assertions).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client

from mcp_memory.config import load_settings
from mcp_memory.services import open_service
from tests.processes.driver import ROOT, server_parameters

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WRITERS = 8
EVENTS_PER_WRITER = 200
CLAIMERS = 16
START_SECONDS = 120
RUN_SECONDS = 240


async def _read_json(stream: BufferedByteReceiveStream) -> dict[str, Any]:
    line = await stream.receive_until(b"\n", 10_000_000)
    data = json.loads(line)
    assert isinstance(data, dict)
    return data


def _report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(f"\n{text}")


async def test_eight_server_processes_append_1600_gapless_events_to_one_room(
    team_config: Path,
    backend: str,
    capsys: pytest.CaptureFixture[str],
    record_property: Any,
) -> None:
    settings = load_settings(team_config)
    async with open_service(settings) as service:
        room = await service.rooms.create_room(service.principal("lead"), name="stampede")

    processes: list[Process] = []
    outputs: list[BufferedByteReceiveStream] = []
    results: list[dict[str, Any]] = []
    try:
        with anyio.fail_after(START_SECONDS):
            for w in range(WRITERS):
                process = await anyio.open_process(
                    [
                        sys.executable,
                        "-m",
                        "tests.processes.driver",
                        "--config",
                        str(team_config),
                        "--agent",
                        f"writer-{w}",
                        "--room",
                        room.room_id,
                        "--count",
                        str(EVENTS_PER_WRITER),
                    ],
                    cwd=ROOT,
                    env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                    stderr=None,
                )
                processes.append(process)
                assert process.stdout is not None
                outputs.append(BufferedByteReceiveStream(process.stdout))
            for output in outputs:
                assert (await _read_json(output)) == {"ready": True}
        started = time.perf_counter()
        with anyio.fail_after(RUN_SECONDS):
            for process in processes:
                assert process.stdin is not None
                await process.stdin.send(b"go\n")
            for output in outputs:
                results.append(await _read_json(output))
            wall = time.perf_counter() - started
            for process in processes:
                assert await process.wait() == 0
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                with anyio.CancelScope(shield=True):
                    await process.wait()

    errors = [e for r in results for e in r["errors"]]
    returned = sorted(i for r in results for i in r["indexes"])
    total = WRITERS * EVENTS_PER_WRITER
    async with open_service(settings) as service:
        stored: list[int] = []
        after = 0
        while True:
            page = await service.store.list_events(room.room_id, limit=500, after_index=after)
            if not page:
                break
            stored += [e.index for e in page]
            after = page[-1].index
        state = await service.store.get_room(room.room_id)

    figure = (
        f"[{backend}] {WRITERS} processes x {EVENTS_PER_WRITER} store_event through stdio servers: "
        f"{wall:.1f}s wall, {total / wall:.0f} events/s, slowest writer "
        f"{max(r['seconds'] for r in results):.1f}s"
    )
    record_property("wall_seconds", round(wall, 2))
    _report(capsys, figure)
    assert errors == []
    assert returned == list(range(1, total + 1))
    assert stored == list(range(1, total + 1))
    assert state.last_event_index == total


async def test_sixteen_server_processes_racing_claim_task_have_one_winner(
    team_config: Path,
    backend: str,
    capsys: pytest.CaptureFixture[str],
    record_property: Any,
) -> None:
    settings = load_settings(team_config)
    async with open_service(settings) as service:
        task = await service.tasks.create_task(service.principal("lead"), "refund order 1182")

    outcomes: dict[str, Any] = {}
    ready = 0
    all_ready, go = anyio.Event(), anyio.Event()
    finished: list[float] = []

    async def claimer(agent: str) -> None:
        nonlocal ready
        async with Client(server_parameters(team_config, agent)) as client:
            ready += 1
            if ready == CLAIMERS:
                all_ready.set()
            await go.wait()
            outcomes[agent] = await client.call_tool("claim_task", {"task_id": task.task_id})
            finished.append(time.perf_counter())

    with anyio.fail_after(START_SECONDS + RUN_SECONDS):
        async with anyio.create_task_group() as tg:
            for n in range(CLAIMERS):
                tg.start_soon(claimer, f"agent-{n:02d}")
            with anyio.fail_after(START_SECONDS):
                await all_ready.wait()
            started = time.perf_counter()
            go.set()
    wall = max(finished) - started

    winners = {agent: r for agent, r in outcomes.items() if not r.is_error}
    losers = {agent: r.content[0].text for agent, r in outcomes.items() if r.is_error}
    _report(capsys, f"[{backend}] {CLAIMERS} racing claim_task through stdio servers: {wall:.2f}s wall")
    record_property("wall_seconds", round(wall, 3))
    assert len(outcomes) == CLAIMERS
    assert len(winners) == 1
    ((winner, result),) = winners.items()
    assert result.structured_content["assignee"] == winner
    assert len(losers) == CLAIMERS - 1
    for text in losers.values():
        assert "Conflict: task" in text
        assert f"already claimed by {winner}" in text
    async with open_service(settings) as service:
        stored = await service.store.get_task(task.task_id)
    assert stored.assignee == winner
    assert stored.version == result.structured_content["version"]
