"""``EscalationQueries``: reading and listing escalations, written once for both backends."""

from __future__ import annotations

from collections.abc import Sequence

from storage.contracts.escalations import EscalationStore
from storage.errors import NotFoundError
from storage.filters import TRUE, Params
from storage.models import Escalation, EscalationStatus, Page
from storage.paging import DEFAULT_PAGE_SIZE
from storage.queries.reader import Reader
from storage.scope import Scope

__all__ = ["EscalationQueries"]


def _in_readable_room(p: Params, scope: Scope | None) -> str:
    """SQL on ``escalations``: its room's namespace is readable in ``scope`` (``TRUE`` without a scope)."""
    if scope is None:
        return TRUE
    return f"room_id IN (SELECT r.room_id FROM rooms AS r WHERE {p.readable('r.namespace', scope)})"


class EscalationQueries(Reader, EscalationStore):
    """``EscalationStore``'s reads: one escalation, and the scoped, paged listing (newest first)."""

    async def get_escalation(self, escalation_id: str, *, scope: Scope | None = None) -> Escalation:
        p = self.PARAMS()
        p.require(f"escalation_id = {p.add(escalation_id)}", _in_readable_room(p, scope))
        row = await self._fetch_one(f"SELECT * FROM escalations WHERE {p.sql()}", p.values)
        if row is None:
            raise NotFoundError("escalation", escalation_id)
        return self.ROWS.escalation(row)

    async def list_escalations(
        self,
        *,
        status: Sequence[EscalationStatus] | None = None,
        room_id: str | None = None,
        queue: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        scope: Scope | None = None,
    ) -> Page[Escalation]:
        p = self.PARAMS()
        p.require(_in_readable_room(p, scope))
        if status:
            p.require(p.equals_any("status", [EscalationStatus(s).value for s in status]))
        if room_id is not None:
            p.require(f"room_id = {p.add(room_id)}")
        if queue is not None:
            p.require(f"queue = {p.add(queue)}")
        return await self._newest_first(
            "escalations", "escalation_id", p, cursor, limit, self.ROWS.escalation
        )
