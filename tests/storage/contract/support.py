"""Small helpers shared by the contract tests: hand-written vectors, timestamps and page walking."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from storage import MemoryStore
from storage.models import Memory, MemoryFilter, NewMemory, Page, Sensitivity
from storage.ranking import VECTOR_WEIGHT

T = TypeVar("T")

DIMENSIONS = 8


def unit(*components: float) -> list[float]:
    """An L2-normalised vector of ``DIMENSIONS`` floats from up to 8 leading components."""
    values = [float(c) for c in components] + [0.0] * (DIMENSIONS - len(components))
    norm = math.sqrt(sum(v * v for v in values))
    assert norm > 0
    return [v / norm for v in values]


def axis(i: int, *, lean: int | None = None, amount: float = 0.0) -> list[float]:
    """The unit vector of axis ``i``, optionally leaning ``amount`` towards axis ``lean``."""
    values = [0.0] * DIMENSIONS
    values[i] = 1.0
    if lean is not None:
        values[lean] += amount
    return unit(*values)


def is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


def at(text: str) -> datetime:
    """A UTC timestamp from ``YYYY-MM-DDTHH:MM[:SS]``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def collect_pages(
    fetch: Callable[[str | None], Awaitable[Page[T]]], *, limit: int, max_pages: int = 100
) -> list[T]:
    """Walk a paginated listing to its end; each page must hold at most ``limit`` items."""
    items: list[T] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = await fetch(cursor)
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor
    raise AssertionError(f"listing did not end after {max_pages} pages")


def rrf(
    lexical_rank: int | None,
    vector_rank: int | None = None,
    *,
    k: int = 60,
    vector_weight: float = VECTOR_WEIGHT,
) -> float:
    """Weighted reciprocal rank fusion score of one item from its 1-based ranks (``None`` when absent):
    lexical weight 1.0, vector weight ``vector_weight`` (default ``storage.ranking.VECTOR_WEIGHT``)."""
    score = 0.0 if lexical_rank is None else 1.0 / (k + lexical_rank)
    return score + (0.0 if vector_rank is None else vector_weight / (k + vector_rank))


def ids(items: Sequence[object], attribute: str) -> list[str]:
    return [str(getattr(item, attribute)) for item in items]


async def filter_fixture(store: MemoryStore) -> dict[str, Memory]:
    """Eight memories that each differ from "plain" in one attribute; every content has "widget"."""
    specs = {
        "plain": NewMemory(namespace="agent-billing", content="widget a"),
        "shared": NewMemory(namespace="shared-customer-context", content="widget b", kind="observation"),
        "session": NewMemory(
            namespace="agent-billing", content="widget c", session_id="sess-1", kind="decision"
        ),
        "room": NewMemory(namespace="agent-triage", content="widget d", room_id="room_7", tags=["vip"]),
        "tagged": NewMemory(namespace="agent-billing", content="widget e", tags=["vip", "refund", "eu"]),
        "meta": NewMemory(
            namespace="agent-billing", content="widget f", metadata={"region": "eu", "tier": 2, "vip": True}
        ),
        "public": NewMemory(namespace="agent-billing", content="widget g", sensitivity=Sensitivity.PUBLIC),
        "secret": NewMemory(
            namespace="agent-billing", content="widget h", sensitivity=Sensitivity.CONFIDENTIAL
        ),
    }
    return {name: await store.add_memory(spec) for name, spec in specs.items()}


FILTER_CASES: dict[str, tuple[MemoryFilter, set[str]]] = {
    "namespaces": (
        MemoryFilter(namespaces=["shared-customer-context", "agent-triage"]),
        {"shared", "room"},
    ),
    "session": (MemoryFilter(session_id="sess-1"), {"session"}),
    "room": (MemoryFilter(room_id="room_7"), {"room"}),
    "kinds": (MemoryFilter(kinds=["observation", "decision"]), {"shared", "session"}),
    "one tag": (MemoryFilter(tags=["vip"]), {"room", "tagged"}),
    "every tag": (MemoryFilter(tags=["vip", "refund"]), {"tagged"}),
    "metadata string": (MemoryFilter(metadata={"region": "eu"}), {"meta"}),
    "metadata int and bool": (MemoryFilter(metadata={"tier": 2, "vip": True}), {"meta"}),
    "metadata mismatch": (MemoryFilter(metadata={"tier": 3}), set()),
    "max sensitivity public": (MemoryFilter(max_sensitivity=Sensitivity.PUBLIC), {"public"}),
    "max sensitivity internal": (
        MemoryFilter(max_sensitivity=Sensitivity.INTERNAL),
        {"plain", "shared", "session", "room", "tagged", "meta", "public"},
    ),
    "combined": (MemoryFilter(namespaces=["agent-billing"], tags=["eu"]), {"tagged"}),
}
