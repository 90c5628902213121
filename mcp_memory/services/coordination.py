"""Coordination metrics of a team (the seeds' measures): task completion time, rework rate, escalation
rate, per agent, room or ISO week.

Definitions (items created in the window ``[since, until)``):

- completion time: ``completed_at - created_at`` of tasks that are done (seconds; median and mean).
- rework rate: reworked tasks / tasks, where a task is reworked when it was reopened after done
  (``reopen_count > 0``) or re-claimed (``claim_count > 1``: given to an agent more than once).
- escalation rate: escalations / rooms.

Attribution: a task counts for its assignee (else its creator), its room and the week it was created; an
escalation for the agent that escalated, its room and its week; a room for its creator and, when another
agent holds the conversation now, that agent too, for itself and its week. Rooms and escalations are
those the operator's scope reads; tasks of rooms outside it are left out. Reads every item of the
window once, a page (``MAX_PAGE_SIZE``) at a time, up to ``MAX_ITEMS`` of each kind (``truncated``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.context import ServiceContext
from storage import InvalidInputError
from storage.models import Page, utc_now
from storage.paging import MAX_PAGE_SIZE

__all__ = ["MAX_ITEMS", "CoordinationRow", "CoordinationService", "CoordinationStats", "Grouping", "iso_week"]

GROUP = "audit"

#: Most tasks, rooms and escalations one report reads (each); beyond it the report says ``truncated``.
MAX_ITEMS = 100_000

Grouping = Literal["agent", "room", "week"]
GROUPINGS: tuple[Grouping, ...] = ("agent", "room", "week")

T = TypeVar("T")

NO_AGENT = "(unassigned)"
NO_ROOM = "(no room)"


def iso_week(at: datetime) -> str:
    """The ISO 8601 week of ``at`` in UTC, e.g. ``2026-W49``."""
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


class CoordinationRow(BaseModel):
    """The measures of one agent, room or week (``key``); rates are ``None`` without a denominator."""

    model_config = ConfigDict(frozen=True)

    key: str
    tasks: int = Field(description="tasks created in the window")
    completed: int = Field(description="of those, done now")
    median_completion_seconds: float | None
    mean_completion_seconds: float | None
    reworked: int = Field(description="tasks reopened after done or claimed more than once")
    rework_rate: float | None = Field(description="reworked / tasks")
    rooms: int
    escalations: int
    escalation_rate: float | None = Field(description="escalations / rooms")


class CoordinationStats(BaseModel):
    """Coordination measures per ``by`` key (sorted by key) and for the whole team (``total``)."""

    model_config = ConfigDict(frozen=True)

    by: Grouping
    since: datetime | None
    until: datetime
    rows: list[CoordinationRow]
    total: CoordinationRow
    truncated: bool = False


class _Tally:
    def __init__(self) -> None:
        self.tasks = 0
        self.durations: list[float] = []
        self.reworked = 0
        self.rooms = 0
        self.escalations = 0

    def row(self, key: str) -> CoordinationRow:
        durations = self.durations
        return CoordinationRow(
            key=key,
            tasks=self.tasks,
            completed=len(durations),
            median_completion_seconds=statistics.median(durations) if durations else None,
            mean_completion_seconds=statistics.fmean(durations) if durations else None,
            reworked=self.reworked,
            rework_rate=self.reworked / self.tasks if self.tasks else None,
            rooms=self.rooms,
            escalations=self.escalations,
            escalation_rate=self.escalations / self.rooms if self.rooms else None,
        )


class CoordinationService(AuditedArea, area="coordination"):
    """Computes ``CoordinationStats`` for operators (tool group ``audit``)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def stats(
        self, principal: Principal, *, by: Grouping = "agent", since: datetime | None = None
    ) -> CoordinationStats:
        """Task completion time, rework rate and escalation rate per ``by`` since ``since`` (else all time).

        Raises:
            PermissionDeniedError: the caller's policy lacks the ``audit`` tool group.
            InvalidInputError: ``by`` is not ``agent``, ``room`` or ``week``.
        """
        self._ctx.require_group(principal, GROUP)
        if by not in GROUPINGS:
            raise InvalidInputError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
        until = utc_now()
        store, scope = self._ctx.store, principal.scope()
        tallies: dict[str, _Tally] = defaultdict(_Tally)
        total = _Tally()
        truncated = False

        def fresh(at: datetime) -> bool:
            return (since is None or at >= since) and at < until

        readable_rooms: set[str] = set()
        async for room, cut in _all(lambda c: store.list_rooms(limit=MAX_PAGE_SIZE, cursor=c, scope=scope)):
            truncated |= cut
            readable_rooms.add(room.room_id)
            if not fresh(room.created_at):
                continue
            total.rooms += 1
            agents = {room.created_by or NO_AGENT, room.state.active_agent or room.created_by or NO_AGENT}
            for key in _keys(by, agents, room.room_id, room.created_at):
                tallies[key].rooms += 1

        async for escalation, cut in _all(
            lambda c: store.list_escalations(limit=MAX_PAGE_SIZE, cursor=c, scope=scope)
        ):
            truncated |= cut
            if not fresh(escalation.created_at):
                continue
            total.escalations += 1
            agents = {escalation.created_by or NO_AGENT}
            for key in _keys(by, agents, escalation.room_id, escalation.created_at):
                tallies[key].escalations += 1

        async for task, cut in _all(lambda c: store.list_tasks(limit=MAX_PAGE_SIZE, cursor=c)):
            truncated |= cut
            if not fresh(task.created_at) or (
                task.room_id is not None and task.room_id not in readable_rooms
            ):
                continue
            reworked = task.reopen_count > 0 or task.claim_count > 1
            duration = (
                (task.completed_at - task.created_at).total_seconds()
                if task.completed_at is not None
                else None
            )
            agents = {task.assignee or task.created_by or NO_AGENT}
            for tally in [total, *(tallies[k] for k in _keys(by, agents, task.room_id, task.created_at))]:
                tally.tasks += 1
                tally.reworked += reworked
                if duration is not None:
                    tally.durations.append(duration)

        rows = [tallies[key].row(key) for key in sorted(tallies)]
        return CoordinationStats(
            by=by, since=since, until=until, rows=rows, total=total.row("all"), truncated=truncated
        )


def _keys(by: Grouping, agents: set[str], room_id: str | None, at: datetime) -> list[str]:
    if by == "agent":
        return sorted(agents)
    if by == "room":
        return [room_id or NO_ROOM]
    return [iso_week(at)]


async def _all(
    read: Callable[[str | None], Awaitable[Page[T]]],
) -> AsyncIterator[tuple[T, bool]]:
    """Every item of a paged listing, up to ``MAX_ITEMS``; ``True`` beside the last one when that cap was hit."""
    cursor: str | None = None
    seen = 0
    while True:
        page = await read(cursor)
        for item in page.items:
            seen += 1
            yield item, seen >= MAX_ITEMS
            if seen >= MAX_ITEMS:
                return
        cursor = page.next_cursor
        if cursor is None:
            return
