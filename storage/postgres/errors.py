"""Mapping of asyncpg and socket errors to ``storage.errors`` types, in one place.

Every database call of the PostgreSQL backend runs inside ``map_driver_errors()`` (the pattern of httpx's
``map_httpcore_exceptions``), so no ``asyncpg.*`` exception escapes ``storage``. Messages never contain
SQL, the DSN or driver text that could; they carry the SQLSTATE so operators can look it up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from storage.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)

__all__ = ["map_driver_errors"]

#: SQLSTATE classes meaning "retry later": 08 connection exception, 53 insufficient resources,
#: 57 operator intervention (admin shutdown, cannot connect now), 40 transaction rollback
#: (serialization failure, deadlock). Source: PostgreSQL manual, appendix A "Error Codes".
_UNAVAILABLE_CLASSES = ("08", "53", "57", "40")


@contextmanager
def map_driver_errors() -> Iterator[None]:
    """Re-raise driver errors raised in the block as the most specific ``StorageError``.

    ``StorageError`` raised inside the block passes through unchanged.

    Raises:
        ConflictError: a unique or exclusion constraint was violated (SQLSTATE 23505, 23P01).
        NotFoundError: a foreign key points at a missing row (SQLSTATE 23503).
        InvalidInputError: a value was refused by a type, check or not-null rule (class 22, 23514, 23502).
        BackendUnavailableError: the server cannot be reached, the pool is closed, or the transaction
            must be retried (classes 08, 40, 53, 57).
        StorageError: any other database error.
    """
    try:
        yield
    except StorageError:
        raise
    except asyncpg.PostgresError as exc:
        raise _map_postgres_error(exc) from exc
    except (asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
        raise BackendUnavailableError(
            "the PostgreSQL connection is closed or unusable (pool closed?): reopen the store and retry"
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise BackendUnavailableError(
            "PostgreSQL cannot be reached: check that the server runs, then retry"
        ) from exc


def _map_postgres_error(exc: asyncpg.PostgresError) -> StorageError:
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    if sqlstate in ("23505", "23P01"):
        constraint = getattr(exc, "constraint_name", None) or "a unique key"
        return ConflictError(f"the item already exists ({constraint} is taken); nothing was changed")
    if sqlstate == "23503":
        return NotFoundError("referenced item", getattr(exc, "constraint_name", None) or "?")
    if sqlstate.startswith("22") or sqlstate in ("23514", "23502"):
        return InvalidInputError(
            f"a value was refused by the database (SQLSTATE {sqlstate}); nothing was changed"
        )
    if sqlstate[:2] in _UNAVAILABLE_CLASSES:
        return BackendUnavailableError(
            f"PostgreSQL is unavailable or asked to retry (SQLSTATE {sqlstate}); nothing was changed: retry"
        )
    return StorageError(f"PostgreSQL error (SQLSTATE {sqlstate or 'unknown'}); nothing was changed")
