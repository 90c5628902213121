"""Typed errors of the storage layer.

No driver exception (``apsw.*``, ``asyncpg.*``) escapes ``storage``: each backend maps them to the most
specific type below in one place (see ``storage/sqlite/errors.py`` and ``storage/postgres/errors.py``).

Exception tree::

    StorageError
    ├── NotFoundError
    ├── ConflictError            (unique key taken, stale expected_version: carries the current version)
    ├── PermissionDeniedError    (outside the caller's scope)
    ├── InvalidInputError
    ├── SchemaVersionError       (database newer than the code, failed migration)
    └── BackendUnavailableError  (cannot connect, database locked past the busy timeout, pool closed)

Messages are written for the person or model that made the call: they name the item and say what to do,
and never contain SQL, a DSN or a stack trace.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BackendUnavailableError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "SchemaVersionError",
    "StorageError",
]


class StorageError(Exception):
    """Base class of every error raised by a ``MemoryStore``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(StorageError):
    """The item does not exist, or exists outside the caller's scope (existence is not revealed)."""

    def __init__(self, kind: str, item_id: str) -> None:
        super().__init__(f"{kind} {item_id!r} was not found")
        self.kind = kind
        self.item_id = item_id


class ConflictError(StorageError):
    """A write lost a race or broke a uniqueness rule; nothing was changed.

    Attributes:
        current_version: the version the item has now, when the conflict is a stale ``expected_version``.
        current: the current state of the item (a model or a plain dict), when known.
    """

    def __init__(self, message: str, *, current_version: int | None = None, current: Any = None) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.current = current


class PermissionDeniedError(StorageError):
    """The caller's scope does not allow this read or write; nothing was changed."""


class InvalidInputError(StorageError):
    """The request is malformed (bad id, wrong embedding size, unknown filter); nothing was changed."""


class SchemaVersionError(StorageError):
    """The database schema is newer than this code, or a migration failed (and was rolled back)."""


class BackendUnavailableError(StorageError):
    """The database cannot be reached or stayed locked past the configured timeout; retry later."""
