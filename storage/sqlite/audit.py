"""The append-only audit log on SQLite (table ``audit_log``, migration 0002).

``seq`` is an ``AUTOINCREMENT`` key, so numbers are never reused; triggers refuse ``UPDATE`` and
``DELETE``. Every function takes an apsw connection already inside a transaction.
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from storage.models import AuditFilter, AuditOutcome, AuditRecord, NewAuditRecord, Page, utc_now
from storage.paging import decode_cursor
from storage.sqlite.rows import fetch_all, fetch_one, from_ts, make_page, ts

__all__ = ["append_audit", "list_audit"]


def _record(row: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        seq=int(row["seq"]),
        agent=row["agent"],
        kind=row["kind"],
        name=row["name"],
        ids=json.loads(row["ids"]),
        outcome=AuditOutcome(row["outcome"]),
        error_type=row["error_type"],
        duration_ms=float(row["duration_ms"]),
        at=from_ts(row["at"]),
    )


def append_audit(conn: apsw.Connection, record: NewAuditRecord) -> AuditRecord:
    """Insert one record (see ``AuditStore.append_audit``); the caller holds the write transaction."""
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
    return _record(row)


def list_audit(
    conn: apsw.Connection, filters: AuditFilter, limit: int, cursor: str | None
) -> Page[AuditRecord]:
    """Records matching ``filters``, newest first. Raises: InvalidInputError (bad cursor)."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("agent", filters.agent),
        ("kind", filters.kind),
        ("name", filters.name),
        ("outcome", filters.outcome.value if filters.outcome else None),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
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
        (after_seq,) = decode_cursor(cursor, 1)
        where.append("seq < ?")
        params.append(int(after_seq))
    sql = "SELECT * FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = fetch_all(conn, sql + " ORDER BY seq DESC LIMIT ?", [*params, limit + 1])
    return make_page(rows, limit, _record, "seq")
