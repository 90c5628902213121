"""Escalations' status transitions on SQLite (creating one is ``storage.queries.escalations``')."""

from __future__ import annotations

from typing import Any

import apsw

from storage.models import (
    Escalation,
    EscalationStatus,
    utc_now,
)
from storage.models.escalations import check_escalation_transition
from storage.queries.escalations import EscalationQueries
from storage.sqlite.core import SQLiteCore
from storage.sqlite.rows import ROWS, fetch_by_key, ts

__all__ = ["SQLiteEscalations"]


def _escalation_row(conn: apsw.Connection, escalation_id: str) -> dict[str, Any]:
    return fetch_by_key(conn, "escalations", "escalation_id", escalation_id, "escalation")


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
    """Escalations' transitions on SQLite: acknowledge, resolve, one write transaction each (the rest is
    ``EscalationQueries``)."""

    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        return await self._db.write(acknowledge_escalation, escalation_id, by)

    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        return await self._db.write(resolve_escalation, escalation_id, by, resolution)
