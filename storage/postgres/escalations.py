"""Escalations' status transitions on PostgreSQL (creating one is ``storage.queries.escalations``')."""

from __future__ import annotations

from storage.errors import NotFoundError
from storage.models import (
    Escalation,
    EscalationStatus,
    utc_now,
)
from storage.models.escalations import check_escalation_transition
from storage.postgres.core import PostgresCore
from storage.postgres.rows import ROWS
from storage.queries.escalations import EscalationQueries

__all__ = ["PostgresEscalations"]


class PostgresEscalations(EscalationQueries, PostgresCore):
    """Escalations' transitions: acknowledge, resolve, each under the row's lock (the rest is
    ``EscalationQueries``)."""

    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        """Move an open escalation to ``acknowledged``. Raises: NotFoundError, ConflictError (not open)."""
        return await self._transition(
            escalation_id,
            EscalationStatus.ACKNOWLEDGED,
            "UPDATE escalations SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3"
            " WHERE escalation_id = $1 RETURNING *",
            (by, utc_now()),
        )

    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        """Resolve an open or acknowledged escalation. Raises: NotFoundError, ConflictError (resolved)."""
        return await self._transition(
            escalation_id,
            EscalationStatus.RESOLVED,
            "UPDATE escalations SET status = 'resolved', resolved_by = $2, resolved_at = $3, resolution = $4"
            " WHERE escalation_id = $1 RETURNING *",
            (by, utc_now(), resolution),
        )

    async def _transition(
        self, escalation_id: str, target: EscalationStatus, sql: str, args: tuple[object, ...]
    ) -> Escalation:
        async with self._transaction() as conn:
            current = await conn.fetchrow(
                "SELECT * FROM escalations WHERE escalation_id = $1 FOR UPDATE", escalation_id
            )
            if current is None:
                raise NotFoundError("escalation", escalation_id)
            check_escalation_transition(ROWS.escalation(current), target)
            row = await conn.fetchrow(sql, escalation_id, *args)
        return ROWS.escalation(row)
