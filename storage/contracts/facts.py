"""The storage contract of versioned facts: ``FactStore`` (mixed into ``MemoryStore``).

Guarantees use MUST / SHOULD (RFC 2119) as in ``storage.contracts.store``. A fact is governed by the same ``Scope``
as a memory: its namespace must be readable (reads) or writable (writes), and a fact above the scope's
clearance is invisible (reads raise ``NotFoundError``, writes ``PermissionDeniedError``).
"""

from __future__ import annotations

import abc
from typing import Any

from storage.models import Fact, FactChange, Page, Sensitivity
from storage.scope import Scope

__all__ = ["FactStore"]


class FactStore(abc.ABC):
    """Keyed, versioned JSON values per namespace with optimistic concurrency and kept history.

    Every set and delete of a fact MUST be written to its namespace's change log in the same
    transaction (``VersionStore``), which is also where its history is read from.
    """

    @abc.abstractmethod
    async def set_fact(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        expected_version: int | None = None,
        sensitivity: Sensitivity = Sensitivity.INTERNAL,
        scope: Scope | None = None,
    ) -> Fact:
        """Create or replace a fact if it is still at ``expected_version``; its version grows by one.

        ``expected_version`` ``0`` or ``None`` means create-only: the fact MUST NOT exist now. Any other
        value MUST equal the current version. Of concurrent writes naming the same version exactly one
        MUST succeed. A key deleted at version ``n`` is re-created at version ``n + 1`` (versions of a key
        never repeat).

        Args:
            namespace: a valid namespace (``storage.models.NAMESPACE_PATTERN``).
            key: ``storage.models.facts.FACT_KEY_PATTERN``.
            value: any JSON value but ``null`` (``check_fact_value``).
            expected_version: the version the caller last read (``0``/``None``: create).
            sensitivity: the fact's sensitivity; MUST NOT be above the scope's clearance.
            scope: ``storage.Scope`` of the caller (``None``: unrestricted).

        Raises:
            ConflictError: the fact is at another version; ``current_version`` is its version (0 when it
                does not exist) and ``current`` the ``Fact`` (``None`` when it does not exist). Nothing
                changed.
            PermissionDeniedError: the namespace is not writable, the sensitivity is above the clearance,
                or the existing fact is above it.
            InvalidInputError: bad namespace, key or value.
        """

    @abc.abstractmethod
    async def get_fact(self, namespace: str, key: str, *, scope: Scope | None = None) -> Fact:
        """Return a live fact. Raises: NotFoundError (absent, deleted, or outside the scope)."""

    @abc.abstractmethod
    async def delete_fact(
        self, namespace: str, key: str, *, expected_version: int | None = None, scope: Scope | None = None
    ) -> Fact:
        """Delete a fact (its version grows by one in the history) and return it as it was.

        Raises:
            NotFoundError: absent, or outside the scope.
            ConflictError: ``expected_version`` is given and differs (carries the current version/fact).
            PermissionDeniedError: the namespace is not writable in the scope.
        """

    @abc.abstractmethod
    async def list_facts(
        self,
        namespace: str,
        *,
        prefix: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Fact]:
        """List a namespace's live facts by key (ascending), optionally those whose key starts with ``prefix``.

        An unreadable namespace lists nothing; facts above the clearance are left out.

        Raises:
            InvalidInputError: bad cursor.
        """

    @abc.abstractmethod
    async def fact_history(
        self,
        namespace: str,
        key: str,
        *,
        limit: int = 50,
        before_version: int | None = None,
        scope: Scope | None = None,
    ) -> list[FactChange]:
        """Return a fact's changes, newest first (at most ``limit``, versions below ``before_version``).

        Includes deletes; entries above the scope's clearance are left out; an unreadable namespace has
        no history (empty list).
        """
