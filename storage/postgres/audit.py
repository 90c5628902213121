"""The append-only audit log on PostgreSQL: ``PostgresAudit`` (table ``audit_log``, migration 0002).

``seq`` is a ``bigserial``; triggers refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE``. ``ids`` is a
``text[]`` with a GIN index, so "every call that touched item X" is an index lookup.
"""

from __future__ import annotations

from storage.models import AuditFilter, AuditRecord, NewAuditRecord, Page, utc_now
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor, encode_cursor
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS

__all__ = ["PostgresAudit"]


class PostgresAudit(PostgresCore):
    """``AuditStore`` on PostgreSQL."""

    async def append_audit(self, record: NewAuditRecord) -> AuditRecord:
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO audit_log (agent, kind, name, ids, outcome, error_type, duration_ms, at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
                record.agent,
                record.kind,
                record.name,
                list(record.ids),
                record.outcome.value,
                record.error_type,
                record.duration_ms,
                record.at or utc_now(),
            )
        return ROWS.audit_record(row)

    async def list_audit(
        self, filters: AuditFilter, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[AuditRecord]:
        size = clamp_limit(limit)
        p = PostgresParams()
        conds = [f"{column} = {p.add(value)}" for column, value in filters.exact().items()]
        if filters.item_id is not None:
            conds.append(f"ids @> ARRAY[{p.add(filters.item_id)}::text]")
        if filters.since is not None:
            conds.append(f"at >= {p.add(filters.since)}")
        if filters.until is not None:
            conds.append(f"at < {p.add(filters.until)}")
        if cursor is not None:
            conds.append(f"seq < {p.add(int(decode_cursor(cursor, 1)[0]))}")
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM audit_log{where} ORDER BY seq DESC LIMIT {p.add(size + 1)}", *p.values
            )
        items = [ROWS.audit_record(r) for r in rows[:size]]
        next_cursor = encode_cursor(int(rows[size - 1]["seq"])) if len(rows) > size else None
        return Page(items=items, next_cursor=next_cursor)
