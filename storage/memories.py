"""Memories, the rules both backends share: the record ``add_memory`` stores, who may delete, listing SQL.

A backend keeps its transactions, the change-log calls and the search document it writes beside each
memory; the statements that read memories within a scope are built here with the dialect's ``Params``
(``storage.filters``), as the ``memories`` table has the same columns in both schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.errors import PermissionDeniedError
from storage.filters import Params, all_of
from storage.models import (
    Memory,
    MemoryFilter,
    NamespaceCount,
    NewMemory,
    PruneReason,
    new_id,
    utc_now,
)
from storage.scope import Scope

__all__ = [
    "NAMESPACE_COUNTS_SQL",
    "PruneQuery",
    "check_memory_delete",
    "namespace_counts",
    "new_memory_record",
    "prune_queries",
    "visible_sql",
]


def new_memory_record(memory: NewMemory, scope: Scope | None) -> Memory:
    """The record ``add_memory`` stores: a new id, now as both times, ``author`` defaulting to the scope's
    agent.

    Raises:
        PermissionDeniedError: the namespace is not writable in ``scope``, or the sensitivity is above its
            clearance.
    """
    if scope is not None:
        if not scope.can_write(memory.namespace):
            raise PermissionDeniedError(
                f"namespace {memory.namespace!r} is not writable by {scope.agent!r}: write to one of "
                f"{', '.join(scope.write_namespaces) or 'no namespace'}"
            )
        if memory.sensitivity.level > scope.max_sensitivity.level:
            raise PermissionDeniedError(
                f"sensitivity {memory.sensitivity.value!r} is above the clearance of {scope.agent!r} "
                f"({scope.max_sensitivity.value})"
            )
    now = utc_now()
    return Memory(
        memory_id=new_id("mem"),
        namespace=memory.namespace,
        content=memory.content,
        kind=memory.kind,
        session_id=memory.session_id,
        tags=list(memory.tags),
        metadata=memory.metadata,
        sensitivity=memory.sensitivity,
        importance=memory.importance,
        author=memory.author or (scope.agent if scope is not None else None),
        room_id=memory.room_id,
        task_id=memory.task_id,
        created_at=now,
        updated_at=now,
    )


def check_memory_delete(memory_id: str, namespace: str, scope: Scope | None) -> None:
    """Raise ``PermissionDeniedError`` unless ``scope`` writes ``namespace``, where the (visible) memory is."""
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"memory {memory_id!r} is in namespace {namespace!r}, which {scope.agent!r} may read "
            "but not write"
        )


def visible_sql(p: Params, memory_id: str, scope: Scope | None, columns: str = "*") -> str:
    """SQL selecting ``columns`` of the memory ``memory_id`` when it is visible in ``scope``."""
    where = all_of([f"memory_id = {p.add(memory_id)}", *p.memory_conditions(MemoryFilter(), scope)])
    return f"SELECT {columns} FROM memories WHERE {where}"


@dataclass(frozen=True)
class PruneQuery:
    """One statement choosing memories to prune: run ``sql`` with ``values``; ``chosen`` orders its rows."""

    sql: str
    values: list[Any]
    reason: PruneReason

    def chosen(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], PruneReason]]:
        """The rows with their reason, oldest or least important first."""
        ordered = list(reversed(rows)) if self.reason == "over_limit" else list(rows)
        return [(r, self.reason) for r in ordered]


def prune_queries(
    new_params: Callable[[], Params],
    namespace: str,
    max_memories: int | None,
    expires_before: datetime | None,
) -> list[PruneQuery]:
    """The statements choosing what ``prune_namespace`` removes from ``namespace`` (see
    ``RetentionStore``): memories created before ``expires_before`` (``expired``), then among the rest
    all but the ``max_memories`` kept by importance, then newness (``over_limit``). Ids order in byte order
    on both backends.
    """
    queries: list[PruneQuery] = []
    if expires_before is not None:
        p = new_params()
        sql = (
            f"SELECT * FROM memories WHERE namespace = {p.add(namespace)}"
            f" AND created_at < {p.add(p.time_value(expires_before))}"
            f" ORDER BY created_at, {p.binary_order('memory_id')}"
        )
        queries.append(PruneQuery(sql, p.values, "expired"))
    if max_memories is not None:
        p = new_params()
        live = [f"namespace = {p.add(namespace)}"]
        if expires_before is not None:
            live.append(f"created_at >= {p.add(p.time_value(expires_before))}")
        sql = (
            f"SELECT * FROM memories WHERE {' AND '.join(live)}"
            f" ORDER BY importance DESC, created_at DESC, {p.binary_order('memory_id')} DESC"
            f" {p.skip(max_memories)}"
        )
        queries.append(PruneQuery(sql, p.values, "over_limit"))
    return queries


#: Per namespace holding memories: ``n`` memories, the ``oldest`` ``created_at`` (read by ``namespace_counts``).
NAMESPACE_COUNTS_SQL = (
    "SELECT namespace, COUNT(*) AS n, MIN(created_at) AS oldest FROM memories GROUP BY namespace"
)


def namespace_counts(
    rows: Sequence[Mapping[str, Any]], load_time: Callable[[Any], datetime]
) -> list[NamespaceCount]:
    """The rows of ``NAMESPACE_COUNTS_SQL`` as counts, by namespace (``load_time``: the dialect's reader)."""
    counts = [
        NamespaceCount(namespace=r["namespace"], memories=r["n"], oldest_at=load_time(r["oldest"]))
        for r in rows
    ]
    return sorted(counts, key=lambda c: c.namespace)
