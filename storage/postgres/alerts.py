"""Alerts between agents on PostgreSQL: ``PostgresAlerts`` (one ``alerts`` row, one ``alert_recipients`` row per inbox)."""

from __future__ import annotations

from storage.errors import NotFoundError
from storage.models import Alert, InboxItem, NewAlert, Page, new_id, utc_now
from storage.paging import clamp_limit, decode_cursor, encode_cursor, isoformat
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.queries.reader import cursor_time

__all__ = ["PostgresAlerts"]

_INBOX = (
    "SELECT a.alert_id, a.sender, a.message, a.severity, a.room_id, a.metadata, a.created_at, r.acked_at"
    " FROM alert_recipients AS r JOIN alerts AS a ON a.alert_id = r.alert_id"
)


class PostgresAlerts(PostgresCore):
    """``AlertStore`` on PostgreSQL."""

    async def send_alert(self, alert: NewAlert) -> Alert:
        """Store an alert and its inbox rows in one transaction."""
        sent = Alert(
            **alert.model_dump(exclude={"to_agents"}),
            alert_id=new_id("alr"),
            recipients=list(alert.to_agents),
            created_at=utc_now(),
        )
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO alerts (alert_id, sender, message, severity, room_id, metadata, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                sent.alert_id,
                sent.sender,
                sent.message,
                sent.severity.value,
                sent.room_id,
                sent.metadata,
                sent.created_at,
            )
            await conn.executemany(
                "INSERT INTO alert_recipients (agent, alert_id, created_at) VALUES ($1, $2, $3)",
                [(agent, sent.alert_id, sent.created_at) for agent in sent.recipients],
            )
        return sent

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
            conds.append(f"(r.created_at, r.alert_id) < ({p.add(cursor_time(at))}, {p.add(str(last_id))})")
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"{_INBOX} WHERE {' AND '.join(conds)} ORDER BY r.created_at DESC, r.alert_id DESC"
                f" LIMIT {p.add(size + 1)}",
                *p.values,
            )
        items = [ROWS.inbox_item(r) for r in rows[:size]]
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
        return ROWS.inbox_item(row)
