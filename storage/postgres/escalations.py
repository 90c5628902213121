"""Escalations to humans, with the handoff package frozen in the creating transaction."""

from __future__ import annotations

from storage.errors import NotFoundError
from storage.models import (
    Escalation,
    EscalationStatus,
    NewEscalation,
    new_id,
    utc_now,
)
from storage.models.escalations import check_escalation_transition
from storage.postgres.core import POSTGRES, PostgresCore, run_postgres_plan
from storage.postgres.rows import ROWS
from storage.queries.escalations import EscalationQueries, handoff_plan

__all__ = ["PostgresEscalations"]


class PostgresEscalations(EscalationQueries, PostgresCore):
    """Escalations' writes: create (with frozen handoff package), acknowledge, resolve (the reads are
    ``EscalationQueries``)."""

    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        """Escalate a room, freezing its handoff package in the same (REPEATABLE READ) transaction.

        Raises:
            NotFoundError: no such room.
        """
        async with self._transaction("repeatable_read") as conn:
            package = await run_postgres_plan(
                conn, handoff_plan(POSTGRES, escalation.room_id, event_limit, escalation.task_id)
            )
            row = await conn.fetchrow(
                "INSERT INTO escalations (escalation_id, room_id, reason, queue, assignee, priority, status,"
                " created_by, created_at, handoff)"
                " VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9) RETURNING *",
                new_id("esc"),
                escalation.room_id,
                escalation.reason,
                escalation.queue,
                escalation.assignee,
                escalation.priority,
                escalation.created_by,
                package.frozen_at,
                package.model_dump(mode="json"),
            )
        return ROWS.escalation(row)

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
