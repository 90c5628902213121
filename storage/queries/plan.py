"""Read plans: a multi-statement read written once, run by each backend in its own snapshot.

A plan is a generator that yields the statements it needs one at a time (``Query``: SQL with the
dialect's placeholders and its values), receives each statement's rows and returns its result. It does no
I/O itself, so the same plan runs synchronously inside SQLite's transaction thread (``run_plan``) and
asynchronously on a PostgreSQL connection (``run_plan_async``), inside a read snapshot or inside the write
transaction that needs it (the handoff package of a new escalation). The pattern is "sans-I/O", as the
``h11`` HTTP library is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from storage.rows import Row

__all__ = ["Plan", "Query", "run_plan", "run_plan_async"]

T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    """One statement of a plan: ``sql`` with the dialect's placeholders, bound to ``values``."""

    sql: str
    values: Sequence[Any] = field(default_factory=list)


#: A plan yielding ``Query`` objects, sent each one's rows, returning a ``T``.
Plan: TypeAlias = Generator[Query, Sequence[Row], T]


def run_plan(plan: Plan[T], fetch: Callable[[str, Sequence[Any]], Sequence[Row]]) -> T:
    """Run ``plan``, fetching each statement's rows with the synchronous ``fetch``; its result."""
    try:
        query = next(plan)
        while True:
            query = plan.send(fetch(query.sql, query.values))
    except StopIteration as done:
        result: T = done.value
        return result


async def run_plan_async(plan: Plan[T], fetch: Callable[[str, Sequence[Any]], Awaitable[Sequence[Row]]]) -> T:
    """Run ``plan``, fetching each statement's rows with the asynchronous ``fetch``; its result."""
    try:
        query = next(plan)
        while True:
            query = plan.send(await fetch(query.sql, query.values))
    except StopIteration as done:
        result: T = done.value
        return result
