"""Mapping of apsw (SQLite driver) exceptions to ``storage.errors`` types, in one place.

Like httpx's ``map_httpcore_exceptions``: every call into apsw runs inside ``map_apsw_exceptions()``, so
no ``apsw.*`` exception escapes ``storage``. Errors the store raises on purpose (``StorageError``
subclasses) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import apsw

from storage.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    StorageError,
)

__all__ = ["map_apsw_exceptions"]

#: apsw exception -> (public type, message), most specific first.
_MAPPING: tuple[tuple[type[BaseException], type[StorageError], str], ...] = (
    (
        apsw.BusyError,
        BackendUnavailableError,
        "the database stayed locked past the busy timeout: retry later",
    ),
    (apsw.LockedError, BackendUnavailableError, "the database table is locked: retry later"),
    (apsw.ConnectionClosedError, BackendUnavailableError, "the store is closed"),
    (apsw.CursorClosedError, BackendUnavailableError, "the store is closed"),
    (apsw.CantOpenError, BackendUnavailableError, "the database file cannot be opened"),
    (apsw.ReadOnlyError, BackendUnavailableError, "the database file is read-only"),
    (apsw.FullError, BackendUnavailableError, "the disk holding the database is full"),
    (apsw.IOError, BackendUnavailableError, "the database file could not be read or written"),
    (apsw.CorruptError, BackendUnavailableError, "the database file is corrupt"),
    (apsw.NotADBError, BackendUnavailableError, "the file is not an SQLite database"),
    (apsw.PermissionsError, BackendUnavailableError, "no permission to access the database file"),
    (apsw.ConstraintError, ConflictError, "the write breaks a uniqueness or integrity rule"),
    (apsw.TooBigError, InvalidInputError, "a value is too large to store"),
    (apsw.MismatchError, InvalidInputError, "a value has the wrong type"),
    (apsw.RangeError, InvalidInputError, "a value is out of range"),
)


@contextmanager
def map_apsw_exceptions() -> Iterator[None]:
    """Re-raise any apsw exception raised in the block as the most specific ``StorageError``.

    Raises:
        BackendUnavailableError: locked past the busy timeout, closed store, I/O or file problems.
        ConflictError: a constraint the store did not check first (a race it lost).
        InvalidInputError: a value SQLite refuses (too big, wrong type).
        StorageError: any other driver failure (a bug: the message says so, without SQL).
    """
    try:
        yield
    except StorageError:
        raise
    except apsw.Error as exc:
        for driver_type, public_type, message in _MAPPING:
            if isinstance(exc, driver_type):
                raise public_type(message) from exc
        raise StorageError(f"the SQLite backend failed ({type(exc).__name__})") from exc
