"""Fact rules both backends share: visibility, the compare-and-set of a write or delete, the next version.

The backends read the live fact under their write lock (SQLite's single writer, PostgreSQL's namespace
head row lock) and ask these functions whether the write may go ahead; semantics in
``storage.contracts.facts``. What the write logs is in ``storage.changelog``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.errors import ConflictError, NotFoundError, PermissionDeniedError
from storage.models import Fact, Sensitivity, check_fact_write
from storage.scope import Scope

__all__ = [
    "FactWrite",
    "check_fact_delete",
    "check_fact_set",
    "fact_key_taken",
    "next_fact_version",
    "visible_fact",
]


@dataclass(frozen=True)
class FactWrite:
    """One ``set_fact`` (``delete`` false) or ``delete_fact``, its input already checked.

    A backend runs it in one transaction: it reads the live fact under its write lock, calls ``check``,
    then writes (``value`` at ``sensitivity``) or deletes, logging the change as ``scope.agent``.
    """

    namespace: str
    key: str
    expected_version: int | None
    scope: Scope
    delete: bool = False
    value: Any = None
    sensitivity: Sensitivity = Sensitivity.INTERNAL

    def check(self, current: Fact | None) -> None:
        """The compare-and-set against ``current`` (``check_fact_set`` or ``check_fact_delete``).

        Raises:
            NotFoundError: a delete of no visible fact.
            ConflictError: ``current`` is at another version.
            PermissionDeniedError: ``current`` is above the clearance, or (delete) its namespace is not
                writable.
        """
        if self.delete:
            check_fact_delete(self.namespace, self.key, current, self.expected_version, self.scope)
        else:
            check_fact_set(self.namespace, self.key, current, self.expected_version, self.scope)


def visible_fact(fact: Fact | None, scope: Scope) -> Fact | None:
    """``fact`` when its namespace is readable and its sensitivity within the clearance, else ``None``."""
    if fact is None or not scope.can_read(fact.namespace):
        return None
    return fact if fact.sensitivity.level <= scope.max_sensitivity.level else None


def check_fact_set(
    namespace: str, key: str, current: Fact | None, expected_version: int | None, scope: Scope
) -> None:
    """Refuse a ``set_fact`` over ``current`` (the live fact, read under the write lock) when stale.

    ``expected_version`` ``None`` or ``0`` means create-only (see ``FactStore.set_fact``).

    Raises:
        PermissionDeniedError: ``current`` is hidden from the scope (``fact_key_taken``).
        ConflictError: ``current`` is at another version (``current_version`` 0 when it does not exist).
    """
    if current is not None and visible_fact(current, scope) is None:
        raise fact_key_taken(namespace, key, scope)
    current_version = 0 if current is None else current.version
    expected = expected_version or 0
    if expected != current_version:
        raise ConflictError(
            f"fact {namespace}/{key} is at version {current_version}, not {expected}; nothing was changed",
            current_version=current_version,
            current=current,
        )


def fact_key_taken(namespace: str, key: str, scope: Scope) -> PermissionDeniedError:
    """The error of writing a key held by a fact hidden from ``scope`` (above its clearance).

    It says neither the fact's version, value nor sensitivity: only that this key cannot be written by this
    caller (docs/security.md: a key is the one thing a writer can learn exists).
    """
    return PermissionDeniedError(
        f"fact {namespace}/{key} cannot be written by {scope.agent!r}: choose another key"
    )


def check_fact_delete(
    namespace: str, key: str, current: Fact | None, expected_version: int | None, scope: Scope
) -> Fact:
    """Return the fact ``delete_fact`` may delete: ``current`` (the live fact) when visible and current.

    Raises:
        NotFoundError: no live fact, or one invisible in ``scope``.
        PermissionDeniedError: the namespace is not writable in ``scope``.
        ConflictError: ``expected_version`` is given and is not the fact's version.
    """
    fact = visible_fact(current, scope)
    if fact is None:
        raise NotFoundError("fact", f"{namespace}/{key}")
    check_fact_write(namespace, fact.sensitivity, scope)
    if expected_version is not None and expected_version != fact.version:
        raise ConflictError(
            f"fact {namespace}/{key} is at version {fact.version}, not {expected_version}; "
            "nothing was changed",
            current_version=fact.version,
            current=fact,
        )
    return fact


def next_fact_version(old: Fact | None, last_logged: int) -> int:
    """The version a write gives a fact: one above the live one, or above the last one logged for its key.

    ``last_logged`` is the highest version in the change log (0 when none), so the versions of a key that
    was deleted and written again never repeat.
    """
    return (old.version if old is not None else last_logged) + 1
