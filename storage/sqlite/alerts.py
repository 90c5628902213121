"""Alerts between agents on SQLite: ``SQLiteAlerts`` (one ``alerts`` row, one ``alert_recipients`` row per inbox)."""

from __future__ import annotations

from typing import Any

import apsw

from storage.errors import NotFoundError
from storage.models import Alert, InboxItem, NewAlert, Page, new_id, utc_now
from storage.paging import clamp_limit, decode_cursor, encode_cursor
from storage.sqlite.core import SQLiteCore
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, to_json, ts

__all__ = ["SQLiteAlerts"]

_INBOX = (
    "SELECT a.alert_id, a.sender, a.message, a.severity, a.room_id, a.metadata, a.created_at, r.acked_at"
    " FROM alert_recipients AS r JOIN alerts AS a ON a.alert_id = r.alert_id"
)


def _send_alert(conn: apsw.Connection, alert: Alert) -> None:
    at = ts(alert.created_at)
    conn.execute(
        "INSERT INTO alerts (alert_id, sender, message, severity, room_id, metadata, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            alert.alert_id,
            alert.sender,
            alert.message,
            alert.severity.value,
            alert.room_id,
            to_json(alert.metadata),
            at,
        ),
    )
    conn.executemany(
        "INSERT INTO alert_recipients (agent, alert_id, created_at) VALUES (?, ?, ?)",
        [(agent, alert.alert_id, at) for agent in alert.recipients],
    )


def _list_inbox(
    conn: apsw.Connection, agent: str, unacked_only: bool, limit: int, cursor: str | None
) -> Page[InboxItem]:
    where = ["r.agent = ?"]
    params: list[Any] = [agent]
    if unacked_only:
        where.append("r.acked_at IS NULL")
    if cursor is not None:
        where.append("(r.created_at, r.alert_id) < (?, ?)")
        params.extend(decode_cursor(cursor, 2))
    rows = fetch_all(
        conn,
        f"{_INBOX} WHERE {' AND '.join(where)} ORDER BY r.created_at DESC, r.alert_id DESC LIMIT ?",
        (*params, limit + 1),
    )
    items = [ROWS.inbox_item(r) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = None if last is None else encode_cursor(last["created_at"], last["alert_id"])
    return Page(items=items, next_cursor=next_cursor)


def _ack_alert(conn: apsw.Connection, alert_id: str, agent: str) -> InboxItem:
    conn.execute(
        "UPDATE alert_recipients SET acked_at = ? WHERE agent = ? AND alert_id = ? AND acked_at IS NULL",
        (ts(utc_now()), agent, alert_id),
    )
    row = fetch_one(conn, f"{_INBOX} WHERE r.agent = ? AND r.alert_id = ?", (agent, alert_id))
    if row is None:
        raise NotFoundError("alert", alert_id)
    return ROWS.inbox_item(row)


class SQLiteAlerts(SQLiteCore):
    """``AlertStore`` on SQLite: one ``Database`` transaction per method."""

    async def send_alert(self, alert: NewAlert) -> Alert:
        sent = Alert(
            **alert.model_dump(exclude={"to_agents"}),
            alert_id=new_id("alr"),
            recipients=list(alert.to_agents),
            created_at=utc_now(),
        )
        await self._db.write(_send_alert, sent)
        return sent

    async def list_inbox(
        self, agent: str, *, unacked_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> Page[InboxItem]:
        return await self._db.read(_list_inbox, agent, unacked_only, clamp_limit(limit), cursor)

    async def ack_alert(self, alert_id: str, agent: str) -> InboxItem:
        return await self._db.write(_ack_alert, alert_id, agent)
