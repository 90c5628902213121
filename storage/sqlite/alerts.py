"""Alerts between agents on SQLite: one ``alerts`` row, one ``alert_recipients`` row per inbox."""

from __future__ import annotations

import json
from typing import Any

import apsw

from storage.errors import NotFoundError
from storage.models import Alert, InboxItem, NewAlert, Page, new_id, utc_now
from storage.paging import decode_cursor, encode_cursor
from storage.sqlite.rows import fetch_all, fetch_one, from_ts, to_json, ts

__all__ = ["ack_alert", "list_inbox", "send_alert"]


def _item(row: dict[str, Any]) -> InboxItem:
    return InboxItem(
        alert_id=row["alert_id"],
        sender=row["sender"],
        message=row["message"],
        severity=row["severity"],
        room_id=row["room_id"],
        metadata=json.loads(row["metadata"]),
        created_at=from_ts(row["created_at"]),
        acked_at=None if row["acked_at"] is None else from_ts(row["acked_at"]),
    )


_INBOX = (
    "SELECT a.alert_id, a.sender, a.message, a.severity, a.room_id, a.metadata, a.created_at, r.acked_at"
    " FROM alert_recipients AS r JOIN alerts AS a ON a.alert_id = r.alert_id"
)


def send_alert(conn: apsw.Connection, alert: NewAlert) -> Alert:
    """Insert an alert and its inbox rows."""
    alert_id = new_id("alr")
    created_at = utc_now()
    now = ts(created_at)
    conn.execute(
        "INSERT INTO alerts (alert_id, sender, message, severity, room_id, metadata, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            alert_id,
            alert.sender,
            alert.message,
            alert.severity.value,
            alert.room_id,
            to_json(alert.metadata),
            now,
        ),
    )
    for agent in alert.to_agents:
        conn.execute(
            "INSERT INTO alert_recipients (agent, alert_id, created_at) VALUES (?, ?, ?)",
            (agent, alert_id, now),
        )
    return Alert(
        alert_id=alert_id,
        sender=alert.sender,
        recipients=list(alert.to_agents),
        message=alert.message,
        severity=alert.severity,
        room_id=alert.room_id,
        metadata=alert.metadata,
        created_at=from_ts(now),
    )


def list_inbox(
    conn: apsw.Connection, agent: str, unacked_only: bool, limit: int, cursor: str | None
) -> Page[InboxItem]:
    """An agent's inbox, newest first by ``(created_at, alert_id)``. Raises: InvalidInputError (cursor)."""
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
    items = [_item(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last["created_at"], last["alert_id"])
    return Page(items=items, next_cursor=next_cursor)


def ack_alert(conn: apsw.Connection, alert_id: str, agent: str) -> InboxItem:
    """Acknowledge an alert in an agent's inbox (idempotent). Raises: NotFoundError."""
    conn.execute(
        "UPDATE alert_recipients SET acked_at = ? WHERE agent = ? AND alert_id = ? AND acked_at IS NULL",
        (ts(utc_now()), agent, alert_id),
    )
    row = fetch_one(conn, f"{_INBOX} WHERE r.agent = ? AND r.alert_id = ?", (agent, alert_id))
    if row is None:
        raise NotFoundError("alert", alert_id)
    return _item(row)
