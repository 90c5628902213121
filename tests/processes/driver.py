"""One OS process that drives its own ``mcp-memory serve`` (stdio) through the SDK client.

Used by ``tests/processes``: ``python -m tests.processes.driver --config F --agent A --room R --count N``.
Protocol on stdout, one JSON object per line: ``{"ready": true}`` once connected; then it waits for a
line ``go`` on stdin (so every driver starts writing at the same moment), calls ``store_event`` ``N``
times and prints ``{"indexes": [...], "errors": [...], "seconds": ...}``. The server's stderr is
inherited.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]


def server_parameters(config: Path, agent: str) -> StdioServerParameters:
    """A stdio server of this checkout (``PYTHONPATH`` = the repository root) running as ``agent``."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", agent],
        env={"PYTHONPATH": str(ROOT), "MCP_MEMORY_TEST_PROCESS": str(os.getpid())},
        cwd=ROOT,
    )


def emit(payload: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def run(config: Path, agent: str, room: str, count: int) -> None:
    async with Client(server_parameters(config, agent)) as client:
        emit({"ready": True})
        go = await anyio.to_thread.run_sync(sys.stdin.readline)
        if go.strip() != "go":
            return
        indexes: list[int] = []
        errors: list[str] = []
        started = time.perf_counter()
        for n in range(count):
            try:
                result = await client.call_tool(
                    "store_event", {"room_id": room, "content": f"{agent} message {n}"}
                )
            except Exception as exc:  # a transport failure is an error of the proof, reported, not raised
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if result.is_error or result.structured_content is None:
                errors.append(str(result.content))
            else:
                indexes.append(int(result.structured_content["event"]["index"]))
        emit({"indexes": indexes, "errors": errors, "seconds": time.perf_counter() - started})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    anyio.run(run, args.config, args.agent, args.room, args.count)


if __name__ == "__main__":
    main()
