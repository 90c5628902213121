"""The SQLite text of the scope/filter predicate (``storage.filters.Params``): ``?``, GLOB, ``json_each``.

JSON columns hold JSON text: tags are tested with ``json_each`` per tag, metadata per key with the JSON
type of the value (``True`` is not ``1``). Item times are ISO text (``storage.sqlite.rows.ts``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.filters import Params
from storage.sqlite.rows import to_json, ts

__all__ = ["SQLiteParams"]


class SQLiteParams(Params):
    """``Params`` for SQLite: ``?`` placeholders (bound in textual order) and GLOB patterns."""

    LIMIT_IN_RECURSIVE = True
    WILDCARD = "*"

    def placeholder(self, index: int) -> str:
        return "?"

    def escape_literal(self, text: str) -> str:
        """GLOB's own wildcards ``?`` and ``[`` made literal (``*`` never reaches here)."""
        return text.replace("[", "[[]").replace("?", "[?]")

    def match_any(self, column: str, patterns: list[str]) -> str:
        parts = [f"{column} GLOB {self.add(p)}" for p in patterns]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def equals_any(self, column: str, values: list[Any]) -> str:
        return f"{column} IN ({', '.join(self.add(v) for v in values)})"

    def has_tags(self, column: str, tags: list[str]) -> str:
        return " AND ".join(
            f"EXISTS (SELECT 1 FROM json_each({column}) AS jt WHERE jt.value = {self.add(tag)})"
            for tag in tags
        )

    def metadata_equals(self, column: str, metadata: dict[str, Any]) -> str:
        return " AND ".join(self._metadata_key(column, key, value) for key, value in metadata.items())

    def _metadata_key(self, column: str, key: str, value: Any) -> str:
        each = f"EXISTS (SELECT 1 FROM json_each({column}) AS je WHERE je.key = {self.add(key)} AND "
        if value is None:
            return each + "je.type = 'null')"
        if isinstance(value, bool):
            return each + f"je.type = {self.add('true' if value else 'false')})"
        if isinstance(value, int | float):
            return each + f"je.type IN ('integer', 'real') AND je.value = {self.add(value)})"
        return each + f"je.type = 'text' AND je.value = {self.add(str(value))})"

    def json_value(self, value: Any) -> Any:
        return to_json(value, "a JSON column's value")

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def time_value(self, value: datetime) -> Any:
        return ts(value)

    def binary_order(self, column: str) -> str:
        return column

    def skip(self, count: int) -> str:
        return f"LIMIT -1 OFFSET {self.add(count)}"
