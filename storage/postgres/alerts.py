"""Alerts between agents on PostgreSQL: one ``alerts`` row, one ``alert_recipients`` row per inbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.errors import NotFoundError
from storage.models import Alert, InboxItem, NewAlert, Page, new_id, utc_now
from storage.paging import clamp_limit, decode_cursor, encode_cursor, isoformat
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.rooms import parse_time

__all__ = ["AlertsMixin"]

_INBOX = (
    "SELECT a.alert_id, a.sender, a.message, a.severity, a.room_id, a.metadata, a.created_at, r.acked_at"
    " FROM alert_recipients AS r JOIN alerts AS a ON a.alert_id = r.alert_id"
)


def _item(row: Mapping[str, Any]) -> InboxItem:
    return InboxItem(
        alert_id=row["alert_id"],
        sender=row["sender"],
        message=row["message"],
        severity=row["severity"],
        room_id=row["room_id"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        acked_at=row["acked_at"],
    )


class AlertsMixin(PostgresCore):
    """``AlertStore`` on PostgreSQL."""

    async def send_alert(self, alert: NewAlert) -> Alert:
        """Store an alert and its inbox rows in one transaction."""
        alert_id = new_id("alr")
        now = utc_now()
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO alerts (alert_id, sender, message, severity, room_id, metadata, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                alert_id,
                alert.sender,
                alert.message,
                alert.severity.value,
                alert.room_id,
                alert.metadata,
                now,
            )
            await conn.executemany(
                "INSERT INTO alert_recipients (agent, alert_id, created_at) VALUES ($1, $2, $3)",
                [(agent, alert_id, now) for agent in alert.to_agents],
            )
        return Alert(
            alert_id=alert_id,
            sender=alert.sender,
            recipients=list(alert.to_agents),
            message=alert.message,
            severity=alert.severity,
            room_id=alert.room_id,
            metadata=alert.metadata,
            created_at=now,
        )

    async def list_inbox(
        self, agent: str, *, unacked_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> Page[InboxItem]:
        """An agent's inbox, newest first. Raises: InvalidInputError (bad cursor)."""
        size = clamp_limit(limit)
        p = PostgresParams(agent)
        conds = ["r.agent = $1"]
        if unacked_only:
            conds.append("r.acked_at IS NULL")
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            conds.append(f"(r.created_at, r.alert_id) < ({p.add(parse_time(at))}, {p.add(str(last_id))})")
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"{_INBOX} WHERE {' AND '.join(conds)} ORDER BY r.created_at DESC, r.alert_id DESC"
                f" LIMIT {p.add(size + 1)}",
                *p.values,
            )
        items = [_item(r) for r in rows[:size]]
        next_cursor = (
            encode_cursor(isoformat(items[-1].created_at), items[-1].alert_id) if len(rows) > size else None
        )
        return Page[InboxItem](items=items, next_cursor=next_cursor)

    async def ack_alert(self, alert_id: str, agent: str) -> InboxItem:
        """Acknowledge an alert in an agent's inbox (idempotent). Raises: NotFoundError."""
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE alert_recipients SET acked_at = $3 WHERE agent = $1 AND alert_id = $2"
                " AND acked_at IS NULL",
                agent,
                alert_id,
                utc_now(),
            )
            row = await conn.fetchrow(f"{_INBOX} WHERE r.agent = $1 AND r.alert_id = $2", agent, alert_id)
        if row is None:
            raise NotFoundError("alert", alert_id)
        return _item(row)
