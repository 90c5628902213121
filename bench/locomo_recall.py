"""Import one LoCoMo conversation through the MCP server and measure search_memory recall.

Protocol (../shared/datasets/locomo/README.md): one room per conversation, every turn an event with its
session time and speaker (photo caption appended), then every category 1-4 question with evidence is
asked with ``search_memory`` (question as the query, the room's events as the corpus); recall@k =
|evidence ∩ top-k| / |evidence| averaged over questions, hit@k = share of questions with any evidence in
the top k. Talks to a real ``mcp-memory serve`` subprocess over stdio. Prints figures; asserts nothing.

Run:  python bench/locomo_recall.py ../shared/datasets/locomo/26.json [--embedder local|none] [--k 10]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

_DIA = re.compile(r"D:?(\d+):0*(\d+)")


def session_time(text: str) -> datetime:
    """Parse LoCoMo's ``1:56 pm on 8 May, 2023`` as UTC."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def load_turns(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """Every turn in order, with its session time and its text as stored (speaker, caption appended)."""
    turns = []
    sessions = sorted(
        (int(key.split("_")[1]) for key in conversation if re.fullmatch(r"session_\d+", key)),
    )
    for number in sessions:
        when = session_time(conversation[f"session_{number}_date_time"])
        for turn in conversation[f"session_{number}"]:
            text = f"{turn['speaker']}: {turn['text']}"
            if turn.get("blip_caption"):
                text += f" [shared a photo: {turn['blip_caption']}]"
            turns.append({"dia_id": turn["dia_id"], "speaker": turn["speaker"], "text": text, "at": when})
    return turns


def evidence_ids(raw: list[str], known: set[str]) -> set[str]:
    """Normalise evidence ids (split "D8:6; D9:17", fix "D:11:26" and "D30:05"), dropping unknown turns."""
    found = set()
    for entry in raw:
        for match in _DIA.finditer(entry):
            dia = f"D{int(match.group(1))}:{int(match.group(2))}"
            if dia in known:
                found.add(dia)
    return found


async def run(path: Path, config: Path, ks: list[int]) -> None:
    data = json.loads(await anyio.Path(path).read_text(encoding="utf-8"))
    turns = load_turns(data.get("conversation", data))
    known = {t["dia_id"] for t in turns}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", "locomo"],
    )
    async with Client(params) as client:
        room = (await client.call_tool("create_room", {"name": f"LoCoMo {path.stem}"})).structured_content
        assert room is not None
        index_to_dia: dict[int, str] = {}
        started = time.perf_counter()
        for turn in turns:
            result = await client.call_tool(
                "store_event",
                {
                    "room_id": room["room_id"],
                    "content": turn["text"],
                    "channel_type": "chat",
                    "sender_address": turn["speaker"],
                    "occurred_at": turn["at"].isoformat(),
                    "idempotency_key": turn["dia_id"],
                    "metadata": {"dia_id": turn["dia_id"]},
                },
            )
            assert result.structured_content is not None, result.content
            index_to_dia[result.structured_content["event"]["index"]] = turn["dia_id"]
        ingest_s = time.perf_counter() - started

        recalls: dict[int, dict[int, list[float]]] = {k: defaultdict(list) for k in ks}
        latencies: list[float] = []
        for qa in data["qa"]:
            category = qa.get("category")
            evidence = evidence_ids(qa.get("evidence", []), known)
            if category not in (1, 2, 3, 4) or not evidence:
                continue
            t0 = time.perf_counter()
            found = await client.call_tool(
                "search_memory",
                {
                    "query": qa["question"],
                    "room_id": room["room_id"],
                    "include_events": True,
                    "limit": max(ks),
                },
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            assert found.structured_content is not None, found.content
            ranked = [index_to_dia.get(r["index"]) for r in found.structured_content["results"]]
            for k in ks:
                top = set(ranked[:k])
                recalls[k][category].append(len(evidence & top) / len(evidence))
    print(
        f"{path.name}: {len(turns)} turns ingested through MCP in {ingest_s:.1f}s ({len(turns) / ingest_s:.0f} turns/s)"
    )
    for k in ks:
        per_cat = {c: statistics.mean(v) for c, v in sorted(recalls[k].items())}
        overall = statistics.mean([x for v in recalls[k].values() for x in v])
        hits = statistics.mean([1.0 if x > 0 else 0.0 for v in recalls[k].values() for x in v])
        cats = "  ".join(f"cat{c} {r:.3f}" for c, r in per_cat.items())
        print(f"recall@{k} {overall:.3f}  hit@{k} {hits:.3f}  ({cats})")
    lat = sorted(latencies)
    print(
        f"search_memory over MCP: {len(lat)} questions, p50 {lat[len(lat) // 2]:.1f} ms, p95 {lat[int(len(lat) * 0.95)]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("conversation", type=Path, help="A LoCoMo conversation JSON file.")
    parser.add_argument("--embedder", default="local", choices=["local", "none"])
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10, 20])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "locomo.toml"
        config.write_text(
            f'data_dir = "{scratch}"\n[embedder]\nprovider = "{args.embedder}"\n', encoding="utf-8"
        )
        anyio.run(run, args.conversation, config, args.k)


if __name__ == "__main__":
    main()
