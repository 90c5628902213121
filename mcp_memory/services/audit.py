"""Audit: the service writes one append-only record per tool call and resource read, and lets operators
query the log.

Records are written by the tool layer's single hook (``mcp_memory.tools._common.tool_errors`` for tools,
the server's ``read_resource`` for resources), which calls ``AuditService.record`` after the call ends,
so every tool is audited without its author doing anything. Querying needs the ``audit`` tool group,
which ``default_policy`` does not grant (see ``mcp_memory.auth.OPERATOR_GROUPS``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mcp_memory import metrics
from mcp_memory.auth import Principal
from mcp_memory.services.context import ServiceContext
from storage import AuditFilter, AuditOutcome, AuditRecord, NewAuditRecord, StorageError
from storage.models import MAX_AUDIT_IDS

__all__ = ["AuditPage", "AuditService"]

GROUP = "audit"

logger = logging.getLogger("mcp_memory.audit")


class AuditPage(BaseModel):
    """Audit records, newest first; pass ``next_cursor`` back for older ones."""

    model_config = ConfigDict(frozen=True)

    records: list[AuditRecord]
    next_cursor: str | None


class AuditService:
    """Writes and reads the audit log."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def record(
        self,
        agent: str,
        *,
        kind: Literal["tool", "resource"],
        name: str,
        ids: Iterable[str],
        error: BaseException | None,
        duration_ms: float,
        at: datetime,
    ) -> AuditRecord | None:
        """Append one record of a finished call; never raises.

        Args:
            agent: the calling principal's name.
            kind: ``tool`` or ``resource``.
            name: the tool's name, or the resource URI that was read.
            ids: ids of the items the call named or returned (deduplicated, the first 64 kept).
            error: the exception that ended the call, or ``None`` when it succeeded. A ``ToolError`` made
                from a domain error is recorded with the domain error's class (its ``__cause__``).
            duration_ms: wall time of the call in milliseconds.
            at: when the call started (UTC).

        Every call is also counted in the process metrics (``mcp_memory.metrics.observe_call``).

        Returns:
            The stored record, or ``None`` when the store could not write it (logged at ERROR: an audit
            failure never turns a committed write into a reported failure).
        """
        metrics.observe_call(kind, name, error, duration_ms / 1000.0)
        unique = list(dict.fromkeys(i for i in ids if i))[:MAX_AUDIT_IDS]
        cause = error.__cause__ if error is not None and error.__cause__ is not None else error
        new = NewAuditRecord(
            agent=agent[:128],
            kind=kind,
            name=name[:512],
            ids=[i[:128] for i in unique],
            outcome=AuditOutcome.OK if error is None else AuditOutcome.ERROR,
            error_type=None if cause is None else type(cause).__name__[:128],
            duration_ms=max(0.0, duration_ms),
            at=at,
        )
        try:
            return await self._ctx.store.append_audit(new)
        except StorageError:
            logger.exception("audit record of %s %s by %s was not written", kind, name, agent)
            return None

    async def query(
        self, principal: Principal, filters: AuditFilter, *, limit: int = 20, cursor: str | None = None
    ) -> AuditPage:
        """List audit records matching ``filters``, newest first (operators only).

        Raises:
            PermissionDeniedError: the caller's policy lacks the ``audit`` tool group.
            InvalidInputError: a bad cursor.
        """
        self._ctx.require_group(principal, GROUP)
        page = await self._ctx.store.list_audit(filters, limit=self._ctx.page_size(limit), cursor=cursor)
        return AuditPage(records=page.items, next_cursor=page.next_cursor)
