"""SQL WHERE clauses for ``MemoryFilter`` and ``Scope``, shared by listing and both search candidate lists.

The clauses run against ``memories`` (listing, alias ``m``) or ``search_docs`` (search, alias ``d``), whose
filter columns share names: ``namespace``, ``session_id``, ``room_id``, ``kind``, ``tags`` (JSON array),
``metadata`` (JSON object), ``sensitivity_level`` (0..2). Only the item time differs (``created_at`` /
``item_at``). Everything is bound as parameters; patterns use GLOB with ``*`` as the only wildcard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.models import MemoryFilter
from storage.scope import Scope
from storage.sqlite.rows import ts

__all__ = ["Where", "docs_where", "memories_where", "namespace_clause", "readable_clause"]


@dataclass
class Where:
    """AND-ed SQL conditions and their parameters, in order."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def _glob(pattern: str) -> str:
    """A scope/filter pattern (``*`` = any run) as a GLOB pattern: ``?`` and ``[`` are made literal."""
    return pattern.replace("[", "[[]").replace("?", "[?]")


def namespace_clause(column: str, patterns: Sequence[str]) -> tuple[str, list[Any]]:
    """``column`` matches one of ``patterns`` (exact names or ``*`` patterns); no pattern matches nothing."""
    exact = [p for p in patterns if "*" not in p]
    globs = [p for p in patterns if "*" in p]
    parts: list[str] = []
    params: list[Any] = []
    if exact:
        parts.append(f"{column} IN ({', '.join('?' * len(exact))})")
        params.extend(exact)
    for pattern in globs:
        parts.append(f"{column} GLOB ?")
        params.append(_glob(pattern))
    if not parts:
        return "0", []
    return "(" + " OR ".join(parts) + ")", params


def readable_clause(column: str, scope: Scope | None) -> tuple[str, list[Any]]:
    """``column`` (a namespace) is readable in ``scope``; everything is readable without a scope."""
    if scope is None:
        return "1", []
    return namespace_clause(column, scope.read_namespaces)


def _metadata_clause(alias: str, key: str, value: Any) -> tuple[str, list[Any]]:
    """Top-level ``key`` equals the scalar ``value`` (type-exact: ``True`` is not ``1``)."""
    each = f"EXISTS (SELECT 1 FROM json_each({alias}.metadata) AS je WHERE je.key = ? AND "
    if value is None:
        return each + "je.type = 'null')", [key]
    if isinstance(value, bool):
        return each + "je.type = ?)", [key, "true" if value else "false"]
    if isinstance(value, int | float):
        return each + "je.type IN ('integer', 'real') AND je.value = ?)", [key, value]
    return each + "je.type = 'text' AND je.value = ?)", [key, str(value)]


def _ceiling(filters: MemoryFilter, scope: Scope | None) -> int | None:
    levels = [s.level for s in (filters.max_sensitivity, scope.max_sensitivity if scope else None) if s]
    return min(levels) if levels else None


def _memory_only(filters: MemoryFilter, alias: str, where: Where) -> None:
    """Conditions on fields only memories carry: namespaces, session, kinds, tags."""
    if filters.namespaces:
        clause, params = namespace_clause(f"{alias}.namespace", filters.namespaces)
        where.add(clause, *params)
    if filters.session_id is not None:
        where.add(f"{alias}.session_id = ?", filters.session_id)
    if filters.kinds:
        where.add(f"{alias}.kind IN ({', '.join('?' * len(filters.kinds))})", *filters.kinds)
    for tag in filters.tags:
        where.add(f"EXISTS (SELECT 1 FROM json_each({alias}.tags) AS jt WHERE jt.value = ?)", tag)


def _shared(filters: MemoryFilter, scope: Scope | None, alias: str, time_column: str, where: Where) -> None:
    """Conditions on fields memories and events both carry: room, metadata, time, sensitivity."""
    if filters.room_id is not None:
        where.add(f"{alias}.room_id = ?", filters.room_id)
    for key, value in filters.metadata.items():
        clause, params = _metadata_clause(alias, key, value)
        where.add(clause, *params)
    if filters.created_after is not None:
        where.add(f"{alias}.{time_column} >= ?", ts(filters.created_after))
    if filters.created_before is not None:
        where.add(f"{alias}.{time_column} < ?", ts(filters.created_before))
    ceiling = _ceiling(filters, scope)
    if ceiling is not None:
        where.add(f"{alias}.sensitivity_level <= ?", ceiling)


def memories_where(filters: MemoryFilter, scope: Scope | None, alias: str = "m") -> Where:
    """Conditions on the ``memories`` table: the filters plus the scope's namespaces and clearance."""
    where = Where()
    _memory_only(filters, alias, where)
    _shared(filters, scope, alias, "created_at", where)
    if scope is not None:
        clause, params = namespace_clause(f"{alias}.namespace", scope.read_namespaces)
        where.add(clause, *params)
    return where


def docs_where(
    filters: MemoryFilter,
    scope: Scope | None,
    *,
    include_memories: bool,
    include_events: bool,
    alias: str = "d",
) -> Where:
    """Conditions on ``search_docs``: item types, the filters, and the scope.

    The scope's namespaces bind memories (their namespace) and events (their room's namespace, copied
    into ``search_docs.namespace``). Memory-only filters (namespaces, session, kinds, tags) exclude events
    when set.
    """
    where = Where()
    memory_only = Where()
    _memory_only(filters, alias, memory_only)
    if memory_only.clauses:
        include_events = False
    if include_memories and include_events:
        pass
    elif include_memories:
        where.add(f"{alias}.item_type = 'memory'")
    elif include_events:
        where.add(f"{alias}.item_type = 'event'")
    else:
        where.add("0")
    where.clauses.extend(memory_only.clauses)
    where.params.extend(memory_only.params)
    _shared(filters, scope, alias, "item_at", where)
    if scope is not None:
        clause, params = namespace_clause(f"{alias}.namespace", scope.read_namespaces)
        where.add(clause, *params)
    return where
