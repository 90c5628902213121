"""Records of versioned facts: a keyed JSON value per namespace with optimistic concurrency.

A fact is ``(namespace, key) -> value`` with a ``version`` that grows by one on every change. A write
names the version it expects (``0`` = the fact must not exist); a stale version is refused with
``ConflictError`` carrying the current version and fact, and nothing changes. Deleting a fact takes a
version too, so versions of a key never repeat: re-creating it after a delete continues from there.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field

from storage.errors import InvalidInputError, PermissionDeniedError
from storage.models.common import NAMESPACE_PATTERN, Sensitivity, _Record

if TYPE_CHECKING:  # storage.scope imports storage.models (Sensitivity): a runtime import would cycle
    from storage.scope import Scope

__all__ = [
    "FACT_KEY_PATTERN",
    "MAX_FACT_VALUE_CHARS",
    "Fact",
    "FactChange",
    "FactKey",
    "check_fact_value",
    "check_fact_write",
    "validate_fact_address",
    "validate_fact_value",
]

#: Keys are 1-200 characters: letters, digits and ``. _ : @ + -`` (no ``/``: keys appear in resource URIs
#: ``memory://facts/{namespace}/{key}``), starting with a letter or digit.
FACT_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$"
#: Longest value, as compact JSON text (characters).
MAX_FACT_VALUE_CHARS = 64_000

_KEY_RE = re.compile(FACT_KEY_PATTERN)
_NAMESPACE_RE = re.compile(NAMESPACE_PATTERN)

FactKey = Annotated[str, Field(min_length=1, max_length=200, pattern=FACT_KEY_PATTERN)]


def check_fact_value(value: Any) -> Any:
    """Return ``value`` if it is a JSON value other than ``null`` of at most ``MAX_FACT_VALUE_CHARS``.

    ``null`` is refused because "no value" is what a deleted fact has: delete the fact instead.

    Raises:
        ValueError: not JSON (NaN, a date, bytes...), ``None``, or too long.
    """
    if value is None:
        raise ValueError("a fact's value cannot be null: delete the fact instead")
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError("a fact's value must be JSON (string, number, boolean, list or object)") from exc
    if len(text) > MAX_FACT_VALUE_CHARS:
        raise ValueError(f"a fact's value is {len(text)} characters of JSON; at most {MAX_FACT_VALUE_CHARS}")
    return value


FactValue = Annotated[Any, AfterValidator(check_fact_value)]


class Fact(_Record):
    """A keyed JSON value in a namespace; ``version`` grows by one on every change (send it back to write)."""

    namespace: str
    key: str
    value: Any
    version: int
    sensitivity: Sensitivity
    created_by: str | None
    updated_by: str | None
    created_at: datetime
    updated_at: datetime


class FactChange(_Record):
    """The value a fact got at ``version`` (null when ``deleted``), by whom and when."""

    namespace: str
    key: str
    version: int
    value: Any = None
    sensitivity: Sensitivity | None = None
    deleted: bool = False
    changed_by: str | None
    changed_at: datetime


def validate_fact_address(namespace: str, key: str) -> None:
    """Check a fact's namespace and key.

    Raises:
        InvalidInputError: the namespace or key does not match its pattern.
    """
    if not _NAMESPACE_RE.match(namespace):
        raise InvalidInputError(
            f"namespace {namespace!r} is not valid: use lowercase letters, digits and . _ : - "
            "(1-128 characters, starting with a letter or digit)"
        )
    if not _KEY_RE.match(key):
        raise InvalidInputError(
            f"fact key {key!r} is not valid: use 1-200 letters, digits and . _ : @ + - "
            "(starting with a letter or digit; no /)"
        )


def validate_fact_value(value: Any) -> None:
    """Check a fact's value. Raises: InvalidInputError (``check_fact_value`` refused it)."""
    try:
        check_fact_value(value)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc


def check_fact_write(namespace: str, sensitivity: Sensitivity, scope: Scope) -> None:
    """Refuse a fact write outside ``scope`` (both backends call this before touching a row).

    Raises:
        PermissionDeniedError: ``namespace`` is not writable in ``scope``, or ``sensitivity`` is above its
            clearance.
    """
    if not scope.can_write(namespace):
        raise PermissionDeniedError(f"namespace {namespace!r} is not writable by {scope.agent!r}")
    if sensitivity.level > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"{scope.agent!r} may not write {sensitivity.value} facts (clearance {scope.max_sensitivity.value})"
        )
