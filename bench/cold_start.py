"""Cold start: CLI commands, the SDK's own import, spawn -> initialize, and the first tool calls.

Prints, asserts nothing (targets of issue 15: ``--help`` and ``init`` <= 0.5 s; spawn -> initialize at most
0.3 s above the SDK import; the first tool call <= 0.2 s after initialize). Each figure is the median of
``--runs`` runs, wall time, with ``uptime`` before and after (the machine is shared).

Run: ``python bench/cold_start.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def wall(args: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - t0


async def session(config: Path, writes: int = 0) -> tuple[float, float, float, list[float]]:
    """Seconds: spawn -> initialized, the first ``remember``, the first ``search_memory``; then the
    wall seconds of ``writes`` more ``remember`` calls."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", "bench"],
        env={"PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    t0 = time.perf_counter()
    async with Client(params) as client:
        t1 = time.perf_counter()
        await client.call_tool("remember", {"content": "the first memory after a start"})
        t2 = time.perf_counter()
        await client.call_tool("search_memory", {"query": "first memory"})
        t3 = time.perf_counter()
        samples = []
        for n in range(writes):
            w0 = time.perf_counter()
            await client.call_tool(
                "remember", {"content": f"customer follow-up number {n} about the invoice"}
            )
            samples.append(time.perf_counter() - w0)
    return t1 - t0, t2 - t1, t3 - t2, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--writes", type=int, default=50, help="remember calls per write figure")
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    work = Path(tempfile.mkdtemp(prefix="mcpmem-cold-"))
    py = sys.executable
    figures: dict[str, list[float]] = {
        k: [] for k in ["--help", "init", "SDK import", "initialize", "first remember", "first search"]
    }
    for n in range(args.runs):
        run_dir = work / f"r{n}"
        run_dir.mkdir()
        figures["--help"].append(wall([py, "-m", "mcp_memory", "--help"], run_dir))
        figures["init"].append(wall([py, "-m", "mcp_memory", "init"], run_dir))
        figures["SDK import"].append(wall([py, "-c", "from mcp.server.mcpserver import MCPServer"], run_dir))
        init, remember, search, _ = anyio.run(session, run_dir / "mcp-memory.toml")
        figures["initialize"].append(init)
        figures["first remember"].append(remember)
        figures["first search"].append(search)
    for label, values in figures.items():
        print(f"{label:16} median {statistics.median(values) * 1000:7.0f} ms  (min {min(values) * 1000:.0f})")
    for deferred in ("false", "true"):
        config = work / f"deferred-{deferred}" / "mcp-memory.toml"
        config.parent.mkdir()
        subprocess.run(
            [py, "-m", "mcp_memory", "init", str(config)], env=ENV, check=True, capture_output=True
        )
        text = config.read_text().replace("threads = 1\n", f"threads = 1\ndeferred = {deferred}\n", 1)
        config.write_text(text)
        samples = anyio.run(session, config, args.writes)[3]
        cuts = statistics.quantiles(samples, n=20)
        print(
            f"remember x{len(samples)}, deferred = {deferred}: p50 {statistics.median(samples) * 1000:.1f} ms, p95 {cuts[18] * 1000:.1f} ms (wall, MCP stdio)"
        )
    gap = statistics.median(figures["initialize"]) - statistics.median(figures["SDK import"])
    print(f"spawn -> initialize minus the SDK import: {gap * 1000:.0f} ms")
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
