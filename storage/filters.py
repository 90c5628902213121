"""The scope/filter WHERE predicate of both backends: the rule that keeps agents apart, written once.

``Params`` collects the positional parameters of one statement (``add(value)`` returns its placeholder)
and builds the conditions every read applies: a namespace is readable when it matches one of the scope's
patterns; an item is visible within the scope's clearance; a ``MemoryFilter`` narrows listings and both
search candidate lists in the same way. Each backend subclasses it with its SQL text only:
``storage.sqlite.filters.SQLiteParams`` (``?`` placeholders, GLOB, ``json_each``) and
``storage.postgres.filters.PostgresParams`` (``$n`` placeholders, LIKE, ``jsonb @>``).

Namespace patterns use ``*`` as their only wildcard (``shared-*``). ``match_pattern`` translates one
pattern for a dialect: the literal runs between the ``*`` are escaped by the dialect and joined with its
wildcard, so GLOB and LIKE match exactly what ``storage.patterns.namespace_matches`` matches. The pattern
``*`` alone matches every namespace and adds no condition. Sensitivity is compared by level (0 public,
1 internal, 2 confidential) in the column ``sensitivity``.

With ``?`` placeholders the values must be bound in the order the placeholders appear in the text: build
the SQL from left to right with the fragments this class returns, and call ``add`` where the value sits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import MemoryFilter, SearchRequest, Sensitivity
from storage.scope import Scope

__all__ = ["FALSE", "TRUE", "Params", "all_of", "has_memory_only_filter"]

#: SQL boolean literals; SQLite (3.23+) and PostgreSQL both read them.
TRUE = "TRUE"
FALSE = "FALSE"

_TOP_LEVEL = Sensitivity.CONFIDENTIAL.level


def all_of(conditions: Sequence[str]) -> str:
    """The AND of ``conditions`` (``TRUE`` when there is none)."""
    return " AND ".join(conditions) if conditions else TRUE


def has_memory_only_filter(f: MemoryFilter) -> bool:
    """True when ``f`` sets a filter only memories carry (namespaces, session, kinds, tags, task, authors)."""
    return bool(
        f.namespaces
        or f.session_id is not None
        or f.kinds
        or f.tags
        or f.task_id is not None
        or f.authors
        or f.exclude_authors
    )


class Params(ABC):
    """Positional parameters of one statement and the scope/filter conditions that bind them.

    Subclasses give the dialect's SQL text (placeholders, pattern operator, JSON tests, time values);
    every rule lives here.
    """

    #: The dialect's "any run of characters" in a translated pattern (``*`` GLOB, ``%`` LIKE).
    WILDCARD: str
    #: The column holding an item's sensitivity level.
    SENSITIVITY: str = "sensitivity"
    #: Whether a recursive CTE's LIMIT stands in its recursive SELECT (SQLite: it bounds the rows ever
    #: added to the CTE) or on an outer subquery reading the CTE (PostgreSQL refuses LIMIT in a recursive
    #: term, and stops evaluating the CTE once the outer query has fetched enough, manual section 7.8.2).
    LIMIT_IN_RECURSIVE: bool

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = []
        self.conditions: list[str] = []
        for value in initial:
            self.add(value)

    # --- dialect hooks (SQL text only) ---------------------------------------------------------------

    @abstractmethod
    def placeholder(self, index: int) -> str:
        """The placeholder of the ``index``-th value (1-based)."""

    @abstractmethod
    def escape_literal(self, text: str) -> str:
        """``text`` made literal inside a pattern of the dialect's match operator."""

    @abstractmethod
    def match_any(self, column: str, patterns: list[str]) -> str:
        """SQL: ``column`` matches one of the translated ``patterns`` (at least one)."""

    @abstractmethod
    def equals_any(self, column: str, values: list[Any]) -> str:
        """SQL: ``column`` equals one of ``values`` (at least one)."""

    @abstractmethod
    def has_tags(self, column: str, tags: list[str]) -> str:
        """SQL: the JSON array in ``column`` holds every one of ``tags`` (at least one)."""

    @abstractmethod
    def metadata_equals(self, column: str, metadata: dict[str, Any]) -> str:
        """SQL: the JSON object in ``column`` has each top-level key equal to its scalar value (type-exact)."""

    @abstractmethod
    def json_value(self, value: Any) -> Any:
        """``value`` (JSON-able) as the dialect binds a JSON column. Raises: InvalidInputError (not JSON)."""

    @abstractmethod
    def json_text(self, column: str, key: str) -> str:
        """SQL: the text of the top-level ``key`` (a constant identifier) of the JSON object in ``column``."""

    @abstractmethod
    def time_value(self, value: datetime) -> Any:
        """``value`` as the dialect stores item times."""

    @abstractmethod
    def binary_order(self, column: str) -> str:
        """ORDER BY text: ``column`` (text) in byte order, as SQLite compares by default."""

    @abstractmethod
    def skip(self, count: int) -> str:
        """The tail of a statement returning every row after the first ``count`` (binds ``count``)."""

    # --- parameters ----------------------------------------------------------------------------------

    def add(self, value: Any) -> str:
        """Append ``value`` and return its placeholder."""
        self.values.append(value)
        return self.placeholder(len(self.values))

    def require(self, *conditions: str) -> None:
        """AND ``conditions`` into this statement's WHERE (``sql()``); ``TRUE`` ones are left out."""
        self.conditions += self._skip_true(list(conditions))

    def sql(self) -> str:
        """The AND of the required conditions (``TRUE`` when there is none)."""
        return all_of(self.conditions)

    @classmethod
    def readable_clause(cls, column: str, scope: Scope | None) -> tuple[str, list[Any]]:
        """``readable(column, scope)`` with values of its own, for a statement binding the rest itself."""
        p = cls()
        return p.readable(column, scope), p.values

    def match_pattern(self, pattern: str) -> str:
        """A ``*`` namespace pattern as a pattern of the dialect's match operator (the one translation)."""
        return self.WILDCARD.join(self.escape_literal(part) for part in pattern.split("*"))

    # --- scope ---------------------------------------------------------------------------------------

    def namespace_in(self, column: str, patterns: Sequence[str]) -> str:
        """SQL: ``column`` matches one of ``patterns`` (exact names or ``*`` patterns).

        ``TRUE`` when one pattern is ``*``; ``FALSE`` when there is no pattern.
        """
        if "*" in patterns:
            return TRUE
        exact = [p for p in patterns if "*" not in p]
        wild = [self.match_pattern(p) for p in patterns if "*" in p]
        parts: list[str] = []
        if exact:
            parts.append(self.equals_any(column, exact))
        if wild:
            parts.append(self.match_any(column, wild))
        if not parts:
            return FALSE
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def readable(self, column: str, scope: Scope | None) -> str:
        """SQL: ``column`` (a namespace) is readable in ``scope``; everything is readable without one."""
        return TRUE if scope is None else self.namespace_in(column, scope.read_namespaces)

    def visible(self, namespace: str, sensitivity: str, scope: Scope | None) -> list[str]:
        """Conditions: the item's ``namespace`` column is readable and its ``sensitivity`` level is within
        the scope's clearance (none without a scope)."""
        if scope is None:
            return []
        return self._skip_true(
            [self.readable(namespace, scope), self.at_most(sensitivity, scope.max_sensitivity.level)]
        )

    def at_most(self, sensitivity: str, level: int) -> str:
        """SQL: the ``sensitivity`` level column is at most ``level`` (``TRUE`` for the top level)."""
        return TRUE if level >= _TOP_LEVEL else f"{sensitivity} <= {self.add(level)}"

    # --- filters -------------------------------------------------------------------------------------

    def memory_conditions(self, f: MemoryFilter, scope: Scope | None, alias: str | None = None) -> list[str]:
        """Conditions on the ``memories`` table: the filters, the scope's namespaces and its clearance."""
        c = f"{alias}." if alias else ""
        conds = self._memory_only(f, c)
        conds += self._provenance(f, c)
        conds.append(self.readable(f"{c}namespace", scope))
        conds += self._common(f, scope, c, f"{c}created_at")
        return self._skip_true(conds)

    def search_conditions(self, request: SearchRequest, scope: Scope | None, alias: str | None = None) -> str:
        """One boolean SQL expression over ``search_docs`` selecting what ``request`` may return to ``scope``.

        Memories get every filter; events come only with ``include_events`` and when no memory-only
        filter is set (``has_memory_only_filter``), and get room, metadata, time and sensitivity. The
        scope's namespaces bind memories (their namespace) and events (their room's namespace, copied
        into ``search_docs.namespace``).
        """
        c = f"{alias}." if alias else ""
        memories = request.include_memories
        events = request.include_events and not has_memory_only_filter(request)
        if not memories and not events:
            return FALSE
        conds: list[str] = []
        if not (memories and events):
            conds.append(f"{c}item_type = '{'memory' if memories else 'event'}'")
        conds += self._memory_only(request, c)
        provenance = self._provenance(request, "")
        if provenance:  # search_docs holds no task or author: read them from the memory the doc indexes
            conds.append(f"{c}item_id IN (SELECT memory_id FROM memories WHERE {all_of(provenance)})")
        conds.append(self.readable(f"{c}namespace", scope))
        conds += self._common(request, scope, c, f"{c}item_at")
        return all_of(self._skip_true(conds))

    def _memory_only(self, f: MemoryFilter, c: str) -> list[str]:
        """Filters only memories carry: namespaces, session, kinds, tags."""
        conds: list[str] = []
        if f.namespaces:
            conds.append(self.namespace_in(f"{c}namespace", f.namespaces))
        if f.session_id is not None:
            conds.append(f"{c}session_id = {self.add(f.session_id)}")
        if f.kinds:
            conds.append(self.equals_any(f"{c}kind", list(f.kinds)))
        if f.tags:
            conds.append(self.has_tags(f"{c}tags", list(f.tags)))
        return conds

    def _provenance(self, f: MemoryFilter, c: str) -> list[str]:
        """Filters on what a memory was recorded for and by: task, authors, excluded authors."""
        conds: list[str] = []
        if f.task_id is not None:
            conds.append(f"{c}task_id = {self.add(f.task_id)}")
        if f.authors:
            conds.append(self.equals_any(f"{c}author", list(f.authors)))
        if f.exclude_authors:
            conds.append(
                f"({c}author IS NULL OR NOT {self.equals_any(f'{c}author', list(f.exclude_authors))})"
            )
        return conds

    def _common(self, f: MemoryFilter, scope: Scope | None, c: str, time_column: str) -> list[str]:
        """Filters memories and events both carry: room, metadata, time window, sensitivity ceiling."""
        conds: list[str] = []
        if f.room_id is not None:
            conds.append(f"{c}room_id = {self.add(f.room_id)}")
        if f.metadata:
            conds.append(self.metadata_equals(f"{c}metadata", dict(f.metadata)))
        if f.created_after is not None:
            conds.append(f"{time_column} >= {self.add(self.time_value(f.created_after))}")
        if f.created_before is not None:
            conds.append(f"{time_column} < {self.add(self.time_value(f.created_before))}")
        levels = [s.level for s in (f.max_sensitivity, scope.max_sensitivity if scope else None) if s]
        if levels:
            conds.append(self.at_most(f"{c}{self.SENSITIVITY}", min(levels)))
        return conds

    @staticmethod
    def _skip_true(conds: list[str]) -> list[str]:
        return [cond for cond in conds if cond != TRUE]
