"""``PortableRows``: the one implementation of ``PortabilityStore`` for every backend.

It builds the SQL (``?`` placeholders, double-quoted identifiers: the same text for SQLite and
PostgreSQL) from the table specs of ``storage.portability_tables`` and converts values between the neutral
form of an export and what a column holds, deciding by the column's declared type (``jsonb`` vs JSON
text, ``timestamptz`` vs ISO text, integer level vs name of a sensitivity). A backend supplies four small
primitives: its columns and their declared types, a read, a write of many statements in one transaction,
and an optional hook after an import (PostgreSQL refreshes its pgvector copy of the embeddings).
"""

from __future__ import annotations

import abc
import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from storage.contracts.portability import PortabilityStore, RowBatch
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.errors import InvalidInputError
from storage.models import Sensitivity
from storage.paging import isoformat
from storage.portability_tables import Column, Selector, Table, table_spec

__all__ = ["MAX_EXPORT_BATCH", "PortableRows", "Statement"]

#: Largest page of ``export_rows`` (rows).
MAX_EXPORT_BATCH = 5000

#: Most ``?`` parameters in one statement (PostgreSQL allows 32767, SQLite 32766 since 3.32).
_MAX_PARAMETERS = 30_000

#: A statement with ``?`` placeholders and its parameters.
Statement = tuple[str, Sequence[Any]]

#: Meta keys of an unfinished reindex: never exported (the target resumes nothing it did not start).
_TRANSIENT_META = frozenset({"reindex_model", "reindex_dimensions"})
#: Meta keys describing the store's vectors: exported only with the vectors.
_VECTOR_META = frozenset({EMBEDDING_MODEL_KEY, EMBEDDING_DIMENSIONS_KEY})
_BY_LEVEL = {s.level: s for s in Sensitivity}
#: Tables whose rows live in a namespace (``export_namespaces``).
_NAMESPACE_TABLES = (
    "rooms",
    "memories",
    "sessions",
    "facts",
    "namespace_changes",
    "snapshots",
    "branches",
    "entities",
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _selection(selector: Selector, count: int) -> str:
    """SQL predicate keeping the rows of ``count`` namespaces (``?`` placeholders, one per namespace)."""
    if count == 0:
        return "1 = 0"
    marks = ", ".join("?" * count)
    rooms = f"SELECT room_id FROM rooms WHERE namespace IN ({marks})"
    if selector == "namespace":
        return f"namespace IN ({marks})"
    if selector == "room":
        return f"room_id IN ({rooms})"
    if selector == "alert":
        return f"alert_id IN (SELECT alert_id FROM alerts WHERE room_id IN ({rooms}))"
    return f"identity_id IN (SELECT sender_identity_id FROM events WHERE room_id IN ({rooms}))"


def _is_text(declared: str) -> bool:
    return "text" in declared or "char" in declared


def _decode(column: Column, declared: str, value: Any) -> Any:
    """A stored value as its neutral JSON form."""
    if value is None:
        return None
    kind = column.kind
    if kind == "json":
        return json.loads(value) if _is_text(declared) else value
    if kind == "time":
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return isoformat(moment.astimezone(UTC))
    if kind == "sensitivity":
        return (Sensitivity(value) if isinstance(value, str) else _BY_LEVEL[int(value)]).value
    if kind == "vector":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value


def _encode(table: str, column: Column, declared: str, value: Any) -> Any:
    """A neutral value as the stored form of a column declared ``declared``.

    Raises:
        InvalidInputError: the value does not fit the column's kind.
    """
    if value is None:
        return None
    try:
        kind = column.kind
        if kind == "json":
            if _is_text(declared):
                return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            return value
        if kind == "time":
            moment = datetime.fromisoformat(str(value))
            if moment.tzinfo is None:
                raise ValueError("a time without a UTC offset")
            return moment if "timestamp" in declared else isoformat(moment.astimezone(UTC))
        if kind == "sensitivity":
            level = Sensitivity(value)
            return level.value if _is_text(declared) else level.level
        if kind == "vector":
            return base64.b64decode(str(value), validate=True)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("not an integer")
            return value
        if kind == "float":
            return float(value)
        if not isinstance(value, str):
            raise ValueError("not a string")
        return value
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInputError(
            f"{table}.{column.name}: {value!r} is not a valid {column.kind}: {exc}"
        ) from None


class PortableRows(PortabilityStore):
    """``PortabilityStore`` over four backend primitives (see the module docstring)."""

    _port_column_cache: dict[str, dict[str, str]]

    @abc.abstractmethod
    async def _port_columns(self, table: str) -> dict[str, str]:
        """Physical columns of ``table`` and their declared types, lowercased (``{"idx": "integer"}``)."""

    @abc.abstractmethod
    async def _port_fetch(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of one query (``?`` placeholders) as ``{column: stored value}``."""

    @abc.abstractmethod
    async def _port_execute(self, statements: Sequence[Statement]) -> int:
        """Run the statements in ONE transaction; return how many rows they inserted in all."""

    async def _port_after_import(self, table: str) -> None:  # noqa: B027 (an optional hook)
        """Called after each ``import_rows`` batch of ``table`` committed; backends MAY override."""

    # --- helpers -------------------------------------------------------------------------------------

    async def _physical(self, table: str) -> dict[str, str]:
        cache: dict[str, dict[str, str]] = self.__dict__.setdefault("_port_column_cache", {})
        if table not in cache:
            cache[table] = await self._port_columns(table)
        return cache[table]

    @staticmethod
    def _spec(table: str) -> Table:
        spec = table_spec(table)
        if spec is None:
            raise InvalidInputError(f"unknown table {table!r} in an export")
        return spec

    @staticmethod
    def _where(column: Column, physical: dict[str, str]) -> str | None:
        return next((name for name in column.candidates if name in physical), None)

    # --- the contract --------------------------------------------------------------------------------

    async def export_namespaces(self) -> list[str]:
        union = " UNION ".join(f"SELECT namespace FROM {_q(t)}" for t in _NAMESPACE_TABLES)
        rows = await self._port_fetch(union + " ORDER BY 1", ())
        return [str(row["namespace"]) for row in rows]

    async def export_rows(
        self,
        table: str,
        *,
        namespaces: Sequence[str] | None = None,
        vectors: bool = True,
        after: tuple[Any, ...] | None = None,
        limit: int = 500,
    ) -> RowBatch:
        spec = self._spec(table)
        if not 1 <= limit <= MAX_EXPORT_BATCH:
            raise InvalidInputError(f"limit must be in 1..{MAX_EXPORT_BATCH}")
        physical = await self._physical(table)
        chosen = [(c, self._where(c, physical)) for c in spec.columns]
        present = [(c, name) for c, name in chosen if name is not None and (vectors or c.kind != "vector")]
        keys = [self._where(spec.column(k), physical) for k in spec.key]
        if any(k is None for k in keys):
            raise InvalidInputError(f"table {table!r} lacks its key columns {spec.key}")
        key_sql = ", ".join(_q(str(k)) for k in keys)
        where: list[str] = []
        params: list[Any] = []
        if namespaces is not None and spec.selector != "all":
            where.append(_selection(spec.selector, len(namespaces)))
            params.extend(namespaces)
        if after is not None:
            if len(after) != len(keys):
                raise InvalidInputError("after: not a position this table's export gave")
            where.append(f"({key_sql}) > ({', '.join('?' * len(keys))})")
            params.extend(after)
        sql = f"SELECT {', '.join(_q(name) for _, name in present)} FROM {_q(table)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {key_sql} LIMIT ?"
        raw = await self._port_fetch(sql, [*params, limit])
        rows = [
            {c.name: _decode(c, physical[name], row[name]) for c, name in present if c.kind != "hidden"}
            for row in raw
        ]
        if table == "meta":
            skip = _TRANSIENT_META | (frozenset() if vectors else _VECTOR_META)
            rows = [row for row in rows if row["key"] not in skip]
        last = tuple(raw[-1][str(k)] for k in keys) if len(raw) == limit else None
        return RowBatch(rows=rows, after=last)

    async def import_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> int:
        spec = self._spec(table)
        if not rows:
            return 0
        physical = await self._physical(table)
        names: list[str] = []
        encoded: list[list[Any]] = []
        for row in rows:
            names, values = [], []
            for column in spec.columns:
                if column.kind == "hidden":
                    continue
                if column.name not in row and column.kind != "vector":
                    raise InvalidInputError(f"a row of {table} lacks the column {column.name!r}")
                value = row.get(column.name)
                targets = [n for n in column.candidates if n in physical]
                if column.kind != "sensitivity":
                    targets = targets[:1]
                for name in targets:
                    names.append(name)
                    values.append(_encode(table, column, physical[name], value))
            encoded.append(values)
        # Many rows per statement (one round trip), in order, so new join-order numbers keep the order.
        per_statement = max(1, _MAX_PARAMETERS // len(names))
        one = f"({', '.join('?' * len(names))})"
        statements: list[Statement] = []
        for start in range(0, len(encoded), per_statement):
            chunk = encoded[start : start + per_statement]
            sql = (
                f"INSERT INTO {_q(table)} ({', '.join(_q(n) for n in names)})"
                f" VALUES {', '.join([one] * len(chunk))} ON CONFLICT DO NOTHING"
            )
            statements.append((sql, [value for values in chunk for value in values]))
        inserted = await self._port_execute(statements)
        await self._port_after_import(table)
        return inserted
