"""Typed backend options: ``open_store(url, **options)`` checks every name and value once, here.

Each backend declares its options as a frozen pydantic dataclass (``storage.sqlite.store.SQLiteOptions``,
``storage.postgres.store.PostgresOptions``); ``parse_options`` builds one from keyword arguments and
refuses an unknown name (a misspelling, or an option of the other backend) instead of dropping it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from storage.errors import InvalidInputError

__all__ = ["Backend", "backend_of", "parse_options"]

Backend = Literal["sqlite", "postgres"]

T = TypeVar("T")


def backend_of(url: str) -> Backend:
    """The backend a storage URL names: ``sqlite://...`` or ``postgresql://`` / ``postgres://``.

    Raises:
        InvalidInputError: any other scheme.
    """
    if url.startswith("sqlite://"):
        return "sqlite"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgres"
    raise InvalidInputError(
        f"unsupported storage URL scheme in {url.split(':', 1)[0]!r}: use sqlite:// or postgresql://"
    )


def parse_options(kind: type[T], backend: str, options: Mapping[str, Any]) -> T:
    """Build the options dataclass ``kind`` of ``backend`` from keyword arguments.

    Args:
        kind: a pydantic dataclass whose fields are the backend's options (with defaults).
        backend: the backend's name for messages (``SQLite``, ``PostgreSQL``).
        options: the keyword arguments given to ``open_store``.

    Raises:
        InvalidInputError: an unknown option (the message names it and the accepted ones), or a value
            of the wrong type or out of range.
    """
    accepted = [f.name for f in dataclasses.fields(kind)]  # type: ignore[arg-type]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidInputError(
            f"unknown {backend} option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
            f"the {backend} backend accepts {', '.join(accepted)}"
        )
    try:
        return kind(**options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors()
        )
        raise InvalidInputError(f"bad {backend} option: {problems}") from exc
