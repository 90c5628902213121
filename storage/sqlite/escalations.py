"""Escalations to humans, with the handoff package frozen in the same transaction that creates them."""

from __future__ import annotations

from typing import Any

import apsw

from storage.models import (
    Escalation,
    EscalationStatus,
    NewEscalation,
    new_id,
    utc_now,
)
from storage.models.escalations import check_escalation_transition
from storage.queries.escalations import EscalationQueries, handoff_plan
from storage.sqlite.core import SQLITE, SQLiteCore, run_sqlite_plan
from storage.sqlite.rows import ROWS, fetch_by_key, ts

__all__ = ["SQLiteEscalations"]


def _escalation_row(conn: apsw.Connection, escalation_id: str) -> dict[str, Any]:
    return fetch_by_key(conn, "escalations", "escalation_id", escalation_id, "escalation")


def create_escalation(conn: apsw.Connection, escalation: NewEscalation, event_limit: int) -> Escalation:
    """Insert an escalation with its frozen handoff package. Raises: NotFoundError (room)."""
    package = run_sqlite_plan(conn, handoff_plan(SQLITE, escalation.room_id, event_limit))
    escalation_id = new_id("esc")
    conn.execute(
        "INSERT INTO escalations (escalation_id, room_id, reason, queue, assignee, priority, status,"
        " created_by, created_at, handoff) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (
            escalation_id,
            escalation.room_id,
            escalation.reason,
            escalation.queue,
            escalation.assignee,
            escalation.priority,
            escalation.created_by,
            ts(package.frozen_at),
            package.model_dump_json(),
        ),
    )
    return ROWS.escalation(_escalation_row(conn, escalation_id))


def acknowledge_escalation(conn: apsw.Connection, escalation_id: str, by: str) -> Escalation:
    """Move an open escalation to ``acknowledged``. Raises: NotFoundError, ConflictError (not open)."""
    check_escalation_transition(
        ROWS.escalation(_escalation_row(conn, escalation_id)), EscalationStatus.ACKNOWLEDGED
    )
    conn.execute(
        "UPDATE escalations SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at = ?"
        " WHERE escalation_id = ?",
        (by, ts(utc_now()), escalation_id),
    )
    return ROWS.escalation(_escalation_row(conn, escalation_id))


def resolve_escalation(conn: apsw.Connection, escalation_id: str, by: str, resolution: str) -> Escalation:
    """Resolve an open or acknowledged escalation. Raises: NotFoundError, ConflictError (resolved)."""
    check_escalation_transition(
        ROWS.escalation(_escalation_row(conn, escalation_id)), EscalationStatus.RESOLVED
    )
    conn.execute(
        "UPDATE escalations SET status = 'resolved', resolved_by = ?, resolved_at = ?, resolution = ?"
        " WHERE escalation_id = ?",
        (by, ts(utc_now()), resolution, escalation_id),
    )
    return ROWS.escalation(_escalation_row(conn, escalation_id))


class SQLiteEscalations(EscalationQueries, SQLiteCore):
    """``EscalationStore``'s writes on SQLite: the handoff package is frozen in the creating write
    transaction (the reads are ``EscalationQueries``)."""

    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        return await self._db.write(create_escalation, escalation, event_limit)

    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        return await self._db.write(acknowledge_escalation, escalation_id, by)

    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        return await self._db.write(resolve_escalation, escalation_id, by, resolution)
