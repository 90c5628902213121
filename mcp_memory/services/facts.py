"""Versioned facts: read, compare-and-set, delete, list and history, within the caller's policy.

Writes publish ``memory://facts/{namespace}/{key}`` and ``memory://facts/{namespace}`` on the change bus,
so agents subscribed to a fact hear when another agent changes it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.sealing import ContentSealer
from storage import ConflictError, PermissionDeniedError
from storage.models import Fact, FactChange, Sensitivity, validate_fact_value

__all__ = ["FactHistory", "FactPage", "FactService", "fact_uri", "facts_uri"]

GROUP = "facts"

#: Longest rendering of a current value inside a conflict message (characters).
MAX_VALUE_IN_MESSAGE_CHARS = 500


def fact_uri(namespace: str, key: str) -> str:
    """``memory://facts/{namespace}/{key}``: one fact (published when it is set or deleted)."""
    return f"memory://facts/{namespace}/{key}"


def facts_uri(namespace: str) -> str:
    """``memory://facts/{namespace}``: a namespace's facts (published on every fact change in it)."""
    return f"memory://facts/{namespace}"


class FactPage(BaseModel):
    """Live facts of a namespace by key; pass ``next_cursor`` back for the next page."""

    model_config = ConfigDict(frozen=True)

    facts: list[Fact]
    next_cursor: str | None


class FactHistory(BaseModel):
    """A fact's changes, newest first (deletes included); continue with ``before_version``."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    key: str
    changes: list[FactChange]


class FactService(AuditedArea, area="facts"):
    """Keyed, versioned JSON values per namespace (optimistic concurrency, history kept)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def _check(self, principal: Principal, namespace: str, *, write: bool) -> None:
        self._ctx.require_group(principal, GROUP)
        scope = principal.scope()
        allowed = scope.can_write(namespace) if write else scope.can_read(namespace)
        if not allowed:
            patterns = scope.write_namespaces if write else scope.read_namespaces
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not {'write' if write else 'read'} namespace {namespace!r}; "
                f"{'writable' if write else 'readable'}: {', '.join(patterns) or 'none'}"
            )

    async def get_fact(self, principal: Principal, namespace: str, key: str) -> Fact:
        """Return a live fact. Raises: PermissionDeniedError (namespace), NotFoundError."""
        self._check(principal, namespace, write=False)
        return await self._ctx.store.get_fact(namespace, key, scope=principal.scope())

    async def set_fact(
        self,
        principal: Principal,
        namespace: str,
        key: str,
        value: Any,
        *,
        expected_version: int | None = None,
        sensitivity: Sensitivity = Sensitivity.INTERNAL,
    ) -> Fact:
        """Create (``expected_version`` 0 or ``None``) or replace (the version last read) a fact.

        Raises:
            ConflictError: the fact is at another version; the message gives its version and value.
            PermissionDeniedError: namespace not writable, or sensitivity above the caller's clearance.
            InvalidInputError: bad key or value.
        """
        self._check(principal, namespace, write=True)
        self._ctx.require_clearance(principal, sensitivity)
        validate_fact_value(value)  # the plain value; a confidential one is stored sealed
        try:
            fact = await self._ctx.store.set_fact(
                namespace,
                key,
                self._ctx.sealer.seal_value(value, sensitivity),
                expected_version=expected_version,
                sensitivity=sensitivity,
                scope=principal.scope(),
            )
        except ConflictError as exc:
            raise _explain(exc, namespace, key, expected_version or 0, self._ctx.sealer) from None
        await self._ctx.changes.publish(fact_uri(namespace, key), facts_uri(namespace))
        return fact

    async def delete_fact(
        self, principal: Principal, namespace: str, key: str, *, expected_version: int | None = None
    ) -> Fact:
        """Delete a fact (optionally only at ``expected_version``); returns it as it was.

        Raises:
            NotFoundError: no such live fact visible to the caller.
            ConflictError: ``expected_version`` is stale (the message gives the current version and value).
            PermissionDeniedError: namespace not writable.
        """
        self._check(principal, namespace, write=True)
        try:
            fact = await self._ctx.store.delete_fact(
                namespace, key, expected_version=expected_version, scope=principal.scope()
            )
        except ConflictError as exc:
            raise _explain(exc, namespace, key, expected_version or 0, self._ctx.sealer) from None
        await self._ctx.changes.publish(fact_uri(namespace, key), facts_uri(namespace))
        return fact

    async def list_facts(
        self,
        principal: Principal,
        namespace: str,
        *,
        prefix: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> FactPage:
        """List a namespace's live facts by key. Raises: PermissionDeniedError, InvalidInputError."""
        self._check(principal, namespace, write=False)
        page = await self._ctx.store.list_facts(
            namespace, prefix=prefix, limit=self._ctx.page_size(limit), cursor=cursor, scope=principal.scope()
        )
        return FactPage(facts=page.items, next_cursor=page.next_cursor)

    async def fact_history(
        self,
        principal: Principal,
        namespace: str,
        key: str,
        *,
        limit: int = 20,
        before_version: int | None = None,
    ) -> FactHistory:
        """A fact's changes newest first (deleted facts keep their history). Raises: PermissionDeniedError."""
        self._check(principal, namespace, write=False)
        changes = await self._ctx.store.fact_history(
            namespace,
            key,
            limit=self._ctx.page_size(limit),
            before_version=before_version,
            scope=principal.scope(),
        )
        return FactHistory(namespace=namespace, key=key, changes=changes)


def _explain(exc: ConflictError, namespace: str, key: str, sent: int, sealer: ContentSealer) -> ConflictError:
    """A conflict message that tells a model the current version and value and what to send."""
    current = sealer.reveal(exc.current) if isinstance(exc.current, Fact) else None
    name = f"{namespace}/{key}"
    if current is None:
        message = (
            f"fact {name} does not exist (you sent expected_version {sent}): "
            "create it with expected_version 0"
        )
    else:
        value = json.dumps(current.value, ensure_ascii=False)
        if len(value) > MAX_VALUE_IN_MESSAGE_CHARS:
            value = value[: MAX_VALUE_IN_MESSAGE_CHARS - 1] + "…"
        message = (
            f"fact {name} is at version {current.version} (value {value}, by {current.updated_by}), "
            f"you sent expected_version {sent}: nothing was changed; re-read it and retry with "
            f"expected_version {current.version} if your change still applies"
        )
    return ConflictError(message, current_version=exc.current_version, current=current)
