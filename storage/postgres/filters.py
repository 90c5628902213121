"""SQL WHERE clauses of listings and search: every filter and the caller's ``Scope``, as parameters.

Namespace patterns use ``*`` as their only wildcard (``shared-*``); they become ``LIKE`` patterns with
``%`` and with ``\\``, ``%`` and ``_`` escaped, matched with ``LIKE ANY($n::text[])``. Sensitivity is
compared by level (0 public, 1 internal, 2 confidential).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.errors import PermissionDeniedError
from storage.models import MemoryFilter, SearchRequest, Sensitivity
from storage.scope import Scope

__all__ = [
    "Params",
    "check_writable",
    "like_patterns",
    "memory_conditions",
    "readable_sql",
    "search_conditions",
]


class Params:
    """Positional parameters of one statement: ``add(value)`` returns its placeholder (``$1``, ``$2``...)."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        """Append ``value`` and return its placeholder."""
        self.values.append(value)
        return f"${len(self.values)}"


def like_patterns(patterns: Sequence[str]) -> list[str] | None:
    """``*`` patterns as SQL ``LIKE`` patterns; ``None`` when one of them is ``*`` (matches everything)."""
    if any(p == "*" for p in patterns):
        return None
    out = []
    for pattern in patterns:
        escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        out.append(escaped.replace("*", "%"))
    return out


def readable_sql(column: str, scope: Scope | None, p: Params) -> str:
    """SQL: ``column`` (a namespace) is readable in ``scope`` (``TRUE`` without a scope or with ``*``)."""
    if scope is None:
        return "TRUE"
    readable = like_patterns(scope.read_namespaces)
    if readable is None:
        return "TRUE"
    return f"{column} LIKE ANY({p.add(readable)}::text[])"


def check_writable(room_id: str, namespace: str, scope: Scope | None) -> None:
    """Raise ``PermissionDeniedError`` unless ``scope`` writes the room's ``namespace``."""
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"agent {scope.agent!r} may read room {room_id!r} but not write to it (namespace "
            f"{namespace!r}; writable: {', '.join(scope.write_namespaces) or 'none'})"
        )


def _ceiling(f: MemoryFilter, scope: Scope) -> int:
    level = scope.max_sensitivity.level
    if f.max_sensitivity is not None:
        level = min(level, f.max_sensitivity.level)
    return level


def _common_conditions(f: MemoryFilter, scope: Scope, p: Params, time_column: str) -> list[str]:
    """Filters both memories and events carry: room, metadata, time window, sensitivity."""
    conds: list[str] = []
    if f.room_id is not None:
        conds.append(f"room_id = {p.add(f.room_id)}")
    if f.metadata:
        conds.append(f"metadata @> {p.add(dict(f.metadata))}::jsonb")
    if f.created_after is not None:
        conds.append(f"{time_column} >= {p.add(f.created_after)}")
    if f.created_before is not None:
        conds.append(f"{time_column} < {p.add(f.created_before)}")
    if _ceiling(f, scope) < Sensitivity.CONFIDENTIAL.level:
        conds.append(f"sensitivity <= {p.add(_ceiling(f, scope))}")
    return conds


def _memory_only_conditions(f: MemoryFilter, scope: Scope, p: Params) -> list[str]:
    """Filters only memories carry (namespace, session, kind, tags), plus the scope's namespaces."""
    conds: list[str] = []
    if f.namespaces:
        wanted = like_patterns(f.namespaces)
        if wanted is not None:
            conds.append(f"namespace LIKE ANY({p.add(wanted)}::text[])")
    readable = like_patterns(scope.read_namespaces)
    if readable is not None:
        conds.append(f"namespace LIKE ANY({p.add(readable)}::text[])")
    if f.session_id is not None:
        conds.append(f"session_id = {p.add(f.session_id)}")
    if f.kinds:
        conds.append(f"kind = ANY({p.add(list(f.kinds))}::text[])")
    if f.tags:
        conds.append(f"tags @> {p.add(list(f.tags))}::jsonb")
    return conds


def _has_memory_only_filter(f: MemoryFilter) -> bool:
    return bool(f.namespaces or f.session_id is not None or f.kinds or f.tags)


def memory_conditions(f: MemoryFilter, scope: Scope, p: Params) -> list[str]:
    """Conditions on the ``memories`` table (columns of the same names, time ``created_at``)."""
    return _memory_only_conditions(f, scope, p) + _common_conditions(f, scope, p, "created_at")


def search_conditions(request: SearchRequest, scope: Scope, p: Params) -> str:
    """One boolean SQL expression over ``search_docs`` selecting what ``request`` may return to ``scope``.

    Memories get every filter and the scope's namespaces; events (only with ``include_events``, and
    only when no memory-only filter is set) get room, metadata, time and sensitivity, and the scope's
    namespaces applied to their room's namespace (copied into ``search_docs.namespace``).
    """
    common = _common_conditions(request, scope, p, "item_at")
    branches: list[str] = []
    if request.include_memories:
        mem = ["item_type = 'memory'", *_memory_only_conditions(request, scope, p)]
        branches.append("(" + " AND ".join(mem) + ")")
    if request.include_events and not _has_memory_only_filter(request):
        branches.append(f"(item_type = 'event' AND {readable_sql('namespace', scope, p)})")
    if not branches:
        return "FALSE"
    return " AND ".join(["(" + " OR ".join(branches) + ")", *common])
