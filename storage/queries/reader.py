"""``Reader``: what a backend gives the shared read methods of ``storage.queries``.

A backend's core sets ``PARAMS`` (its ``storage.filters.Params`` subclass: placeholders and operators)
and ``ROWS`` (its ``storage.rows.Rows``: stored values to Python) and implements ``_fetch``, which runs
one statement in one read snapshot and returns its rows as ``{column: value}`` mappings, and ``_read``,
which runs a read plan of several statements (``storage.queries.plan``) in one snapshot. The helpers here
turn fetched rows into pages and cursors the same way on every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from storage.errors import InvalidInputError
from storage.filters import Params
from storage.models import Page
from storage.paging import clamp_limit, decode_cursor, encode_cursor, isoformat
from storage.queries.plan import Plan, Query
from storage.rows import Row, Rows

__all__ = ["BAD_CURSOR", "Dialect", "Reader", "cursor_int", "cursor_time", "page_of"]

T = TypeVar("T")

#: The message of every cursor a listing cannot read (``storage.paging.decode_cursor`` says the same).
BAD_CURSOR = "cursor is not valid: pass back the next_cursor of the previous page"


@dataclass(frozen=True)
class Dialect:
    """What a plan (``storage.queries.plan``) needs of a backend: its ``Params`` class and its ``Rows``."""

    params: type[Params]
    rows: Rows

    def query(self, template: str, *values: Any) -> Query:
        """``template`` with each ``{}`` replaced, in order, by the placeholder of the next of ``values``."""
        p = self.params()
        return Query(template.format(*(p.add(v) for v in values)), p.values)


class Reader(ABC):
    """The dialect and the one query primitive a backend's core gives the shared read methods."""

    #: The dialect's parameter collector and scope/filter predicate builder.
    PARAMS: ClassVar[type[Params]]
    #: The dialect's row -> record mappers.
    ROWS: ClassVar[Rows]

    @property
    def dialect(self) -> Dialect:
        """This backend's ``Dialect``, for plans."""
        return Dialect(self.PARAMS, self.ROWS)

    @abstractmethod
    async def _fetch(self, sql: str, values: Sequence[Any]) -> list[Row]:
        """Run one statement (placeholders of ``PARAMS``) in one read snapshot and return every row.

        Raises:
            BackendUnavailableError: the database cannot be reached (driver errors are mapped).
        """

    @abstractmethod
    async def _read(self, plan: Plan[T]) -> T:
        """Run ``plan`` (``storage.queries.plan``) with all its statements in one read snapshot.

        Raises:
            BackendUnavailableError: the database cannot be reached (driver errors are mapped).
        """

    @abstractmethod
    async def _write(self, plan: Plan[T]) -> T:
        """Run ``plan`` (its reads and writes) in one write transaction whose reads see one snapshot
        (SQLite: ``BEGIN IMMEDIATE`` on the writer; PostgreSQL: REPEATABLE READ).

        Raises:
            BackendUnavailableError: the database cannot be reached (driver errors are mapped).
        """

    async def _fetch_one(self, sql: str, values: Sequence[Any]) -> Row | None:
        """The first row of ``_fetch(sql, values)``, or ``None``."""
        rows = await self._fetch(sql, values)
        return rows[0] if rows else None

    async def _newest_first(
        self,
        table: str,
        id_column: str,
        p: Params,
        cursor: str | None,
        limit: int,
        convert: Callable[[Row], T],
    ) -> Page[T]:
        """A page of ``table``'s rows passing ``p``'s conditions, newest first by ``(created_at, id_column)``.

        Args:
            table: the table (its ``created_at`` and ``id_column`` are the sort key).
            id_column: the unique id column that breaks ties of ``created_at``.
            p: the conditions required so far (the cursor's and the limit's values are added after them).
            cursor: the ``next_cursor`` of the previous page (``[created_at ISO text, id]``), or ``None``.
            limit: the page size (clamped to ``1..MAX_PAGE_SIZE``).
            convert: row -> record (a ``Rows`` mapper).

        Raises:
            InvalidInputError: a cursor this store did not make.
        """
        size = clamp_limit(limit)
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            after = p.add(p.time_value(cursor_time(at)))
            p.require(f"(created_at, {id_column}) < ({after}, {p.add(str(last_id))})")
        rows = await self._fetch(
            f"SELECT * FROM {table} WHERE {p.sql()}"
            f" ORDER BY created_at DESC, {id_column} DESC LIMIT {p.add(size + 1)}",
            p.values,
        )
        return page_of(rows, size, convert, lambda r: (self._time_text(r["created_at"]), r[id_column]))

    def _time_text(self, stored: Any) -> str:
        """A stored timestamp as cursor text (``storage.paging.isoformat`` of the UTC time)."""
        return isoformat(self.ROWS.load_time(stored))


def page_of(
    rows: Sequence[Row], size: int, convert: Callable[[Row], T], key: Callable[[Row], tuple[Any, ...]]
) -> Page[T]:
    """A page of ``size`` items from ``size + 1`` fetched rows.

    Args:
        rows: the rows fetched with ``LIMIT size + 1`` (one more tells that a next page exists).
        size: the page size.
        convert: row -> record (a ``Rows`` mapper).
        key: row -> its sort key as JSON values (times as ``storage.paging.isoformat`` text); the
            next cursor encodes the key of the page's last row.
    """
    items = [convert(r) for r in rows[:size]]
    next_cursor = encode_cursor(*key(rows[size - 1])) if len(rows) > size else None
    return Page[T](items=items, next_cursor=next_cursor)


def cursor_time(value: Any) -> datetime:
    """A cursor's ISO-8601 timestamp (tz-aware) back to a ``datetime``. Raises: InvalidInputError."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInputError(BAD_CURSOR) from exc
    if at.tzinfo is None:
        raise InvalidInputError(BAD_CURSOR)
    return at


def cursor_int(value: Any) -> int:
    """A cursor's integer key. Raises: InvalidInputError (not an integer)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(BAD_CURSOR)
    return value
