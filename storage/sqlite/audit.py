"""The append-only audit log on SQLite: ``SQLiteAudit`` (table ``audit_log``, migration 0002).

``seq`` is an ``AUTOINCREMENT`` key, so numbers are never reused; triggers refuse ``UPDATE`` and
``DELETE``. ``ids`` is a JSON array, searched with ``json_each``.
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from storage.models import AuditFilter, AuditRecord, NewAuditRecord, Page, utc_now
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor
from storage.sqlite.core import SQLiteCore
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, make_page, ts

__all__ = ["SQLiteAudit"]


def _append_audit(conn: apsw.Connection, record: NewAuditRecord) -> AuditRecord:
    row = fetch_one(
        conn,
        "INSERT INTO audit_log (agent, kind, name, ids, outcome, error_type, duration_ms, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (
            record.agent,
            record.kind,
            record.name,
            json.dumps(record.ids),
            record.outcome.value,
            record.error_type,
            record.duration_ms,
            ts(record.at or utc_now()),
        ),
    )
    assert row is not None  # RETURNING of the insert above
    return ROWS.audit_record(row)


def _list_audit(
    conn: apsw.Connection, filters: AuditFilter, limit: int, cursor: str | None
) -> Page[AuditRecord]:
    where = [f"{column} = ?" for column in filters.exact()]
    params: list[Any] = list(filters.exact().values())
    if filters.item_id is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(audit_log.ids) AS j WHERE j.value = ?)")
        params.append(filters.item_id)
    if filters.since is not None:
        where.append("at >= ?")
        params.append(ts(filters.since))
    if filters.until is not None:
        where.append("at < ?")
        params.append(ts(filters.until))
    if cursor is not None:
        where.append("seq < ?")
        params.append(int(decode_cursor(cursor, 1)[0]))
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
    rows = fetch_all(conn, sql + " ORDER BY seq DESC LIMIT ?", [*params, limit + 1])
    return make_page(rows, limit, ROWS.audit_record, "seq")


class SQLiteAudit(SQLiteCore):
    """``AuditStore`` on SQLite."""

    async def append_audit(self, record: NewAuditRecord) -> AuditRecord:
        return await self._db.write(_append_audit, record)

    async def list_audit(
        self, filters: AuditFilter, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[AuditRecord]:
        return await self._db.read(_list_audit, filters, clamp_limit(limit), cursor)
