"""LoCoMo retrieval benchmark: ingest conversations through mcp-memory, ask their questions, print recall.

Protocol (``../shared/datasets/locomo/README.md``): one room per conversation; every turn is one event
with its session's date and time as ``occurred_at``, its speaker as the sender (``channel_type="chat"``,
``sender_address=<speaker>``) and the photo caption appended to its text (``[shared a photo: ...]``).
Then every category 1-4 question with evidence is asked with ``search_memory`` (question as the query,
``room_id`` of its conversation, ``include_events``), taking the top ``max(k)`` results.
recall@k = |evidence ∩ top-k| / |evidence| averaged over questions; hit@k = share of questions with any
evidence turn in the top k. Evidence quirks handled: two ids in one string ("D8:6; D9:17"), malformed
ids ("D:11:26" = D11:26, "D30:05" = D30:5), ids of turns that do not exist (dropped), questions with
no evidence left (skipped). Category 5 (adversarial) questions are not asked.

Runs in-process through the service API (``open_service``) by default, or through a real
``mcp-memory serve`` subprocess over stdio with ``--mcp``. ``--backend postgres`` creates a throwaway
database on the server of ``--dsn`` and drops it at the end. Prints figures; asserts nothing.
Latency is wall time per search; beside it, the CPU time this process spent per search (all threads;
with ``--mcp`` only the client's share) and the load average, because on a shared machine wall time
measures the neighbours as much as the search.

Run::

    python bench/locomo_retrieval.py ../shared/datasets/locomo                 # every file of a folder
    python bench/locomo_retrieval.py ../shared/datasets/locomo/41.json 42.json --backend postgres
    python bench/locomo_retrieval.py ../shared/datasets/locomo/26.json --mcp --per-file
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio

_DIA = re.compile(r"D:?(\d+):0*(\d+)")
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
AGENT = "locomo"


@dataclass(frozen=True)
class Turn:
    """One dialogue turn as it is stored: ``text`` has the photo caption appended."""

    dia_id: str
    speaker: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Question:
    """A category 1-4 question and its (normalised, existing) evidence turn ids."""

    text: str
    category: int
    evidence: frozenset[str]


@dataclass
class Conversation:
    """One LoCoMo file: its turns in order and the questions to ask."""

    name: str
    turns: list[Turn]
    questions: list[Question]


@dataclass
class Results:
    """Per-question recall lists by k and category, latencies in ms, ingest figures."""

    recall: dict[int, dict[int, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    turns: int = 0
    ingest_seconds: float = 0.0

    def add(self, other: Results) -> None:
        """Merge another run's figures into this one."""
        for k, per_cat in other.recall.items():
            for category, values in per_cat.items():
                self.recall[k][category].extend(values)
        self.latencies_ms.extend(other.latencies_ms)
        self.cpu_ms.extend(other.cpu_ms)
        self.turns += other.turns
        self.ingest_seconds += other.ingest_seconds


def session_time(text: str) -> datetime:
    """Parse LoCoMo's ``1:56 pm on 8 May, 2023`` as UTC."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def evidence_ids(raw: list[str], known: set[str]) -> frozenset[str]:
    """Normalise evidence ids (split "D8:6; D9:17", fix "D:11:26" and "D30:05"), dropping unknown turns."""
    found = set()
    for entry in raw:
        for match in _DIA.finditer(entry):
            dia = f"D{int(match.group(1))}:{int(match.group(2))}"
            if dia in known:
                found.add(dia)
    return frozenset(found)


def load_conversation(path: Path) -> Conversation:
    """Read one LoCoMo file (either the bare object or ``{"conversation": ...}``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    conversation = data.get("conversation", data)
    numbers = sorted(
        int(key.split("_")[1])
        for key, value in conversation.items()
        if re.fullmatch(r"session_\d+", key) and isinstance(value, list)
    )
    turns = []
    for number in numbers:
        when = session_time(conversation[f"session_{number}_date_time"])
        for turn in conversation[f"session_{number}"]:
            text = turn["text"]
            if turn.get("blip_caption"):
                text += f" [shared a photo: {turn['blip_caption']}]"
            turns.append(Turn(dia_id=turn["dia_id"], speaker=turn["speaker"], text=text, at=when))
    known = {t.dia_id for t in turns}
    questions = []
    for qa in data["qa"]:
        category = qa.get("category")
        evidence = evidence_ids(qa.get("evidence", []), known)
        if category in CATEGORIES and evidence:
            questions.append(Question(text=qa["question"], category=category, evidence=evidence))
    return Conversation(name=path.stem, turns=turns, questions=questions)


def conversation_files(paths: list[Path]) -> list[Path]:
    """Expand folders to their ``*.json`` files (sorted); keep files as given."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


# --- two ways to talk to mcp-memory: in-process service, or a stdio MCP session ----------------------

StoreEvent = Callable[[dict[str, Any]], Awaitable[int]]
Search = Callable[[dict[str, Any]], Awaitable[list[int]]]


@dataclass
class Api:
    """The three calls the benchmark needs; ``search`` returns the event indexes of the results."""

    create_room: Callable[[str], Awaitable[str]]
    store_event: StoreEvent
    search: Search


@asynccontextmanager
async def service_api(settings: Any, ranking: dict[str, float]) -> AsyncIterator[Api]:
    """The API through ``mcp_memory.services`` in this process; ``ranking`` overrides SearchRequest knobs."""
    from mcp_memory.services import open_service
    from storage.models import SearchRequest

    async with open_service(settings) as service:
        me = service.principal(AGENT)

        async def create_room(name: str) -> str:
            return (await service.rooms.create_room(me, name=name)).room_id

        async def store_event(args: dict[str, Any]) -> int:
            args = dict(args)
            room_id, content = args.pop("room_id"), args.pop("content")
            stored = await service.events.store_event(me, room_id, content, **args)
            return stored.event.index

        async def search(args: dict[str, Any]) -> list[int]:
            found = await service.memories.search(me, SearchRequest(**args, **ranking))
            return [item.index for item in found.results if item.index is not None]

        yield Api(create_room, store_event, search)


@asynccontextmanager
async def mcp_api(config: Path) -> AsyncIterator[Api]:
    """The API through a ``mcp-memory serve`` subprocess over stdio (the MCP SDK client)."""
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", AGENT],
    )
    async with Client(params) as client:

        async def call(tool: str, args: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(tool, args)
            if result.structured_content is None:
                raise RuntimeError(f"{tool} failed: {result.content}")
            return result.structured_content

        async def create_room(name: str) -> str:
            return str((await call("create_room", {"name": name}))["room_id"])

        async def store_event(args: dict[str, Any]) -> int:
            args = {**args, "occurred_at": args["occurred_at"].isoformat()}
            return int((await call("store_event", args))["event"]["index"])

        async def search(args: dict[str, Any]) -> list[int]:
            found = await call("search_memory", args)
            return [r["index"] for r in found["results"] if r.get("index") is not None]

        yield Api(create_room, store_event, search)


# --- the benchmark --------------------------------------------------------------------------------


async def run_conversation(api: Api, conversation: Conversation, ks: list[int]) -> Results:
    """Ingest one conversation into its own room, then ask its questions."""
    results = Results(turns=len(conversation.turns))
    room_id = await api.create_room(f"LoCoMo {conversation.name}")
    index_to_dia: dict[int, str] = {}
    started = time.perf_counter()
    for turn in conversation.turns:
        index = await api.store_event(
            {
                "room_id": room_id,
                "content": turn.text,
                "channel_type": "chat",
                "sender_address": turn.speaker,
                "occurred_at": turn.at,
                "idempotency_key": turn.dia_id,
                "metadata": {"dia_id": turn.dia_id},
            }
        )
        index_to_dia[index] = turn.dia_id
    results.ingest_seconds = time.perf_counter() - started
    for question in conversation.questions:
        t0, c0 = time.perf_counter(), time.process_time()
        indexes = await api.search(
            {
                "query": question.text,
                "room_id": room_id,
                "include_events": True,
                "include_memories": False,
                "limit": max(ks),
            }
        )
        results.latencies_ms.append((time.perf_counter() - t0) * 1000)
        results.cpu_ms.append((time.process_time() - c0) * 1000)
        ranked = [index_to_dia.get(i) for i in indexes]
        for k in ks:
            top = set(ranked[:k])
            results.recall[k][question.category].append(len(question.evidence & top) / len(question.evidence))
    return results


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100]) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def print_table(title: str, results: Results, ks: list[int]) -> None:
    """Print recall@k / hit@k per category and overall, then latency and ingest throughput."""
    print(f"\n== {title}")
    header = "  ".join(
        [f"{'category':<16}", f"{'n':>4}"] + [f"r@{k:<4}" for k in ks] + [f"h@{k:<4}" for k in ks]
    )
    print(header)
    groups = [(f"{c} {name}", [c]) for c, name in CATEGORIES.items() if results.recall[ks[0]].get(c)]
    for label, cats in [*groups, ("overall", list(CATEGORIES))]:
        per_k = {k: [x for c in cats for x in results.recall[k].get(c, [])] for k in ks}
        recall = [f"{statistics.mean(per_k[k]):.3f} " for k in ks]
        hit = [f"{statistics.mean([1.0 if x > 0 else 0.0 for x in per_k[k]]):.3f} " for k in ks]
        print("  ".join([f"{label:<16}", f"{len(per_k[ks[0]]):>4}", *recall, *hit]))
    lat, cpu = results.latencies_ms, results.cpu_ms
    print(
        f"query latency: {len(lat)} searches, p50 {percentile(lat, 50):.1f} ms, p95 {percentile(lat, 95):.1f} ms"
        f" (CPU time of this process per search: p50 {percentile(cpu, 50):.1f} ms, p95 {percentile(cpu, 95):.1f} ms);"
        f" ingest: {results.turns} turns in {results.ingest_seconds:.1f} s"
        f" ({results.turns / max(results.ingest_seconds, 1e-9):.0f} turns/s);"
        f" load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


@asynccontextmanager
async def postgres_database(server_dsn: str) -> AsyncIterator[str]:
    """A throwaway database on the server of ``server_dsn``; yields its DSN and drops it afterwards."""
    import asyncpg

    name = f"locomo_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield urlsplit(server_dsn)._replace(path=f"/{name}").geturl()
    finally:
        conn = await asyncpg.connect(server_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def main_async(args: argparse.Namespace) -> None:
    files = conversation_files(args.paths)
    if not files:
        raise SystemExit("no LoCoMo files found")
    conversations = [load_conversation(f) for f in files]
    ks = sorted(set(args.k))
    with tempfile.TemporaryDirectory() as scratch:
        async with _storage_url(args, Path(scratch)) as url:
            config = Path(scratch) / "locomo.toml"
            config.write_text(
                f'data_dir = "{scratch}"\n[storage]\nurl = "{url}"\n[embedder]\nprovider = "{args.embedder}"\n',
                encoding="utf-8",
            )
            if args.mcp:
                api_cm = mcp_api(config)
            else:
                from mcp_memory.config import load_settings

                ranking = {
                    name: value
                    for name, value in (
                        ("vector_weight", args.vector_weight),
                        ("sender_boost", args.sender_boost),
                    )
                    if value is not None
                }
                api_cm = service_api(load_settings(config), ranking)
            total = Results()
            async with api_cm as api:
                if not args.mcp and args.embedder != "none":
                    await api.search({"query": "warm up", "limit": 1})  # load the model before timing
                for conversation in conversations:
                    results = await run_conversation(api, conversation, ks)
                    if args.per_file:
                        print_table(f"{conversation.name}.json", results, ks)
                    total.add(results)
    via = "stdio MCP session" if args.mcp else "in-process service API"
    names = ", ".join(c.name for c in conversations)
    print_table(
        f"{len(conversations)} conversation(s) [{names}], {args.backend}, embedder {args.embedder}, {via}",
        total,
        ks,
    )


@asynccontextmanager
async def _storage_url(args: argparse.Namespace, scratch: Path) -> AsyncIterator[str]:
    if args.backend == "sqlite":
        yield f"sqlite:///{scratch / 'memory.db'}"
        return
    async with postgres_database(args.dsn) as dsn:
        yield dsn


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", type=Path, nargs="+", help="LoCoMo JSON files and/or folders of them.")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--dsn",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server to create the throwaway database on (--backend postgres).",
    )
    parser.add_argument("--embedder", default="local", help="embedder.provider (local, none, ...).")
    parser.add_argument("--mcp", action="store_true", help="Go through a stdio MCP session, not in-process.")
    parser.add_argument("--per-file", action="store_true", help="Also print a table per conversation.")
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument(
        "--vector-weight", type=float, help="SearchRequest.vector_weight (in-process only; ablation)."
    )
    parser.add_argument(
        "--sender-boost", type=float, help="SearchRequest.sender_boost (in-process only; ablation)."
    )
    anyio.run(main_async, parser.parse_args())


if __name__ == "__main__":
    main()
