"""``Reader``: what a backend gives the shared read methods of ``storage.queries``.

A backend's core sets ``PARAMS`` (its ``storage.filters.Params`` subclass: placeholders and operators)
and ``ROWS`` (its ``storage.rows.Rows``: stored values to Python) and implements ``_fetch``, which runs
one statement in one read snapshot and returns its rows as ``{column: value}`` mappings. The helpers here
turn fetched rows into pages and cursors the same way on every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from storage.errors import InvalidInputError
from storage.filters import Params
from storage.models import Page
from storage.paging import encode_cursor
from storage.rows import Row, Rows

__all__ = ["BAD_CURSOR", "Reader", "cursor_int", "cursor_time", "page_of"]

T = TypeVar("T")

#: The message of every cursor a listing cannot read (``storage.paging.decode_cursor`` says the same).
BAD_CURSOR = "cursor is not valid: pass back the next_cursor of the previous page"


class Reader(ABC):
    """The dialect and the one query primitive a backend's core gives the shared read methods."""

    #: The dialect's parameter collector and scope/filter predicate builder.
    PARAMS: ClassVar[type[Params]]
    #: The dialect's row -> record mappers.
    ROWS: ClassVar[Rows]

    @abstractmethod
    async def _fetch(self, sql: str, values: Sequence[Any]) -> list[Row]:
        """Run one statement (placeholders of ``PARAMS``) in one read snapshot and return every row.

        Raises:
            BackendUnavailableError: the database cannot be reached (driver errors are mapped).
        """

    async def _fetch_one(self, sql: str, values: Sequence[Any]) -> Row | None:
        """The first row of ``_fetch(sql, values)``, or ``None``."""
        rows = await self._fetch(sql, values)
        return rows[0] if rows else None


def page_of(
    rows: Sequence[Row], size: int, convert: Callable[[Row], T], key: Callable[[T], tuple[Any, ...]]
) -> Page[T]:
    """A page of ``size`` items from ``size + 1`` fetched rows.

    Args:
        rows: the rows fetched with ``LIMIT size + 1`` (one more tells that a next page exists).
        size: the page size.
        convert: row -> record (a ``Rows`` mapper).
        key: record -> its sort key as JSON values (times as ``storage.paging.isoformat`` text); the
            next cursor encodes the key of the page's last item.
    """
    items = [convert(r) for r in rows[:size]]
    next_cursor = encode_cursor(*key(items[-1])) if len(rows) > size and items else None
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
