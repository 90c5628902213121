"""Building blocks of every record: base model, ids, timestamps, namespaces, sensitivity, pages.

All timestamps are timezone-aware UTC ``datetime`` values named ``*_at``. Ids are opaque strings made by
the store (a short type prefix and 16 hex digits, e.g. ``mem_3f9c0a1b2d4e5f60``) unless the caller gives one.
Models are frozen: a record read from the store is a value, not a handle.
"""

from __future__ import annotations

import enum
import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "Id",
    "MetadataValue",
    "NAMESPACE_PATTERN",
    "Namespace",
    "Page",
    "Sensitivity",
    "Tag",
    "UtcDatetime",
    "new_id",
    "utc_now",
]


T = TypeVar("T")


#: Namespaces are lowercase words joined by ``-``, ``_``, ``.`` or ``:`` (``agent-billing``,
#: ``shared-customer-context``). Scope patterns add ``*`` as a wildcard (``shared-*``).
NAMESPACE_PATTERN = r"^[a-z0-9][a-z0-9._:-]{0,127}$"


_NAMESPACE_RE = re.compile(NAMESPACE_PATTERN)


def utc_now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime (microsecond precision)."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """Return a new random id ``{prefix}_{16 hex digits}`` (64 random bits)."""
    return f"{prefix}_{secrets.token_hex(8)}"


def _check_namespace(value: str) -> str:
    if not _NAMESPACE_RE.match(value):
        raise ValueError(
            f"namespace {value!r} is not valid: use lowercase letters, digits and . _ : - "
            "(1-128 characters, starting with a letter or digit)"
        )
    return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return value.astimezone(UTC)


Namespace = Annotated[str, AfterValidator(_check_namespace)]


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$")]


Tag = Annotated[str, Field(min_length=1, max_length=64)]


MetadataValue = str | int | float | bool | None


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sensitivity(enum.StrEnum):
    """How confidential an item is; ordered ``public < internal < confidential``."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"

    @property
    def level(self) -> int:
        """0 for public, 1 for internal, 2 for confidential."""
        return _SENSITIVITY_LEVEL[self]

    @classmethod
    def at_most(cls, ceiling: Sensitivity) -> list[Sensitivity]:
        """Every sensitivity a caller with clearance ``ceiling`` may read, lowest first."""
        return [s for s in cls if s.level <= ceiling.level]


_SENSITIVITY_LEVEL = {Sensitivity.PUBLIC: 0, Sensitivity.INTERNAL: 1, Sensitivity.CONFIDENTIAL: 2}


class Page(BaseModel, Generic[T]):
    """One page of a listing. ``next_cursor`` is ``None`` on the last page; pass it back to continue."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_cursor: str | None = None
