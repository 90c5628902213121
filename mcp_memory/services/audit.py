"""Audit: operators query the append-only log of calls.

Records are written by one path, ``AuditLog.call`` (``services/auditing.py``): the server's ``call_tool``
and ``read_resource`` for calls over MCP, the service areas themselves for in-process calls. Querying
needs the ``audit`` tool group, which ``default_policy`` does not grant (see
``mcp_memory.auth.OPERATOR_GROUPS``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.context import ServiceContext
from storage import AuditFilter, AuditRecord, AuditStore

__all__ = ["AuditPage", "AuditService"]

GROUP = "audit"


class AuditPage(BaseModel):
    """Audit records, newest first; pass ``next_cursor`` back for older ones."""

    model_config = ConfigDict(frozen=True)

    records: list[AuditRecord]
    next_cursor: str | None


class AuditService(AuditedArea, area="audit"):
    """Reads the audit log (writing it is ``ServiceContext.audit_log``'s job)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._store: AuditStore = ctx.store

    async def query(
        self, principal: Principal, filters: AuditFilter, *, limit: int = 20, cursor: str | None = None
    ) -> AuditPage:
        """List audit records matching ``filters``, newest first (operators only).

        Raises:
            PermissionDeniedError: the caller's policy lacks the ``audit`` tool group.
            InvalidInputError: a bad cursor.
        """
        self._ctx.require_group(principal, GROUP)
        page = await self._store.list_audit(filters, limit=self._ctx.page_size(limit), cursor=cursor)
        return AuditPage(records=page.items, next_cursor=page.next_cursor)
