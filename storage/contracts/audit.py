"""The audit area of the storage contract: an append-only log of tool calls and resource reads."""

from __future__ import annotations

import abc

from storage.models import AuditFilter, AuditRecord, NewAuditRecord, Page

__all__ = ["AuditStore"]


class AuditStore(abc.ABC):
    """Append-only audit log. ``MemoryStore`` inherits it; every backend implements it.

    There is deliberately no method that changes or removes a record, and backends MUST make the
    database refuse ``UPDATE`` and ``DELETE`` on the log (a trigger), so a compromised caller of this
    API cannot rewrite history. Retention: records are kept until an operator archives them with
    database tools (see ``docs/security.md``).
    """

    @abc.abstractmethod
    async def append_audit(self, record: NewAuditRecord) -> AuditRecord:
        """Append one record in its own transaction; ``seq`` is the next number of the log.

        The store MUST set ``at`` to now when the record has none.
        """

    @abc.abstractmethod
    async def list_audit(
        self, filters: AuditFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page[AuditRecord]:
        """List records matching ``filters``, newest first (descending ``seq``).

        ``filters.item_id`` keeps records whose ``ids`` contain it. Bounded by ``limit``
        (``1..MAX_PAGE_SIZE``) and continued by ``next_cursor``.

        Raises:
            InvalidInputError: the cursor is not one this listing made.
        """
