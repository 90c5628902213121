"""SQLite's dialect of stored values: ``ROWS`` (the neutral mappers of ``storage.rows``) and the writers.

Timestamps are stored as fixed-width ISO-8601 UTC text (``storage.paging.isoformat``), which sorts in time
order; JSON columns hold compact JSON text; embeddings are float32 little-endian blobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import apsw
import numpy as np

from storage.errors import InvalidInputError, NotFoundError
from storage.models import Page
from storage.paging import encode_cursor, isoformat
from storage.rows import Rows

__all__ = [
    "ROWS",
    "event_from_row",
    "fetch_all",
    "fetch_by_key",
    "fetch_one",
    "from_ts",
    "make_page",
    "memory_from_row",
    "pack_embedding",
    "to_json",
    "ts",
]

Row = dict[str, Any]
T = TypeVar("T")


def ts(value: datetime) -> str:
    """A tz-aware datetime as stored text (UTC, microseconds, fixed width)."""
    return isoformat(value.astimezone(UTC))


def from_ts(value: str) -> datetime:
    """Stored text back to a tz-aware UTC datetime."""
    return datetime.fromisoformat(value)


#: The row -> record mappers reading SQLite's stored values.
ROWS = Rows(load_time=from_ts, load_json=json.loads)

# Names kept for the callers in other areas until they use ``ROWS`` (issue 16 lands in parallel parts).
memory_from_row = ROWS.memory
event_from_row = ROWS.event


def to_json(value: Any, what: str = "metadata") -> str:
    """Compact JSON text of ``value``.

    Raises:
        InvalidInputError: ``value`` is not JSON (a date, bytes, NaN...).
    """
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{what} must be JSON values (strings, numbers, booleans, lists, objects)"
        ) from exc


def pack_embedding(embedding: Sequence[float]) -> bytes:
    """float32[dimensions] little-endian bytes, as sqlite-vec reads them.

    Raises:
        InvalidInputError: empty, or holding NaN or infinity.
    """
    array = np.asarray(embedding, dtype="<f4")
    if array.ndim != 1 or array.size == 0:
        raise InvalidInputError("an embedding must be a non-empty list of floats")
    if not bool(np.isfinite(array).all()):
        raise InvalidInputError("an embedding must hold finite floats (no NaN or infinity)")
    return array.tobytes()


def make_page(rows: list[Row], limit: int, convert: Callable[[Row], T], *key_columns: str) -> Page[T]:
    """A page of ``limit`` items from ``limit + 1`` fetched rows; the cursor is the last row's sort key."""
    items = [convert(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(*(last[c] for c in key_columns))
    return Page(items=items, next_cursor=next_cursor)


def fetch_one(conn: apsw.Connection, sql: str, params: Sequence[Any] = ()) -> Row | None:
    """First row of a query as ``{column: value}`` (connections carry the ``dict_row`` tracer)."""
    return cast("Row | None", conn.execute(sql, params).fetchone())


def fetch_by_key(conn: apsw.Connection, table: str, column: str, value: str, kind: str) -> Row:
    """The row of ``table`` (a constant name) whose unique ``column`` is ``value``.

    Raises:
        NotFoundError: no such row (reported as ``kind`` ``value``).
    """
    row = fetch_one(conn, f"SELECT * FROM {table} WHERE {column} = ?", (value,))
    if row is None:
        raise NotFoundError(kind, value)
    return row


def fetch_all(conn: apsw.Connection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Every row of a query as ``{column: value}``."""
    return cast("list[Row]", conn.execute(sql, params).fetchall())
