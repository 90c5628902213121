"""The PostgreSQL text of the scope/filter predicate (``storage.filters.Params``): ``$n``, LIKE, ``jsonb``.

Patterns become ``LIKE`` patterns (``%``; ``\\``, ``%`` and ``_`` escaped) matched with
``LIKE ANY($n::text[])``; tags and metadata are tested by ``jsonb`` containment (``@>``, GIN-indexed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.filters import Params

__all__ = ["PostgresParams"]


class PostgresParams(Params):
    """``Params`` for PostgreSQL: ``$n`` placeholders and LIKE patterns."""

    LIMIT_IN_RECURSIVE = False
    WILDCARD = "%"

    def placeholder(self, index: int) -> str:
        return f"${index}"

    def escape_literal(self, text: str) -> str:
        """LIKE's wildcards ``%``, ``_`` and its escape ``\\`` made literal."""
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    def match_any(self, column: str, patterns: list[str]) -> str:
        return f"{column} LIKE ANY({self.add(patterns)}::text[])"

    def equals_any(self, column: str, values: list[Any]) -> str:
        return f"{column} = ANY({self.add(values)}::text[])"

    def has_tags(self, column: str, tags: list[str]) -> str:
        return f"{column} @> {self.add(tags)}::jsonb"

    def metadata_equals(self, column: str, metadata: dict[str, Any]) -> str:
        return f"{column} @> {self.add(metadata)}::jsonb"

    def json_value(self, value: Any) -> Any:
        return value  # the pool's jsonb codec encodes it (storage.postgres.pool)

    def json_text(self, column: str, key: str) -> str:
        return f"{column} ->> '{key}'"

    def time_value(self, value: datetime) -> Any:
        return value

    def binary_order(self, column: str) -> str:
        return f'{column} COLLATE "C"'

    def skip(self, count: int) -> str:
        return f"OFFSET {self.add(count)}"
