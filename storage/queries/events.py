"""``EventQueries``: reading a room's timeline, and the plan re-reading the window of events an append
re-indexes, written once for both backends."""

from __future__ import annotations

from collections.abc import Sequence

from storage.contracts.events import EventStore
from storage.errors import NotFoundError
from storage.indexing import (
    CONTEXT_AFTER,
    CONTEXT_BEFORE,
    EventText,
    event_head,
    sender_label,
    window_documents,
)
from storage.models import Event, Visibility
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect, Reader
from storage.queries.rooms import readable_room
from storage.scope import Scope
from storage.text import lexical_text

__all__ = ["EventQueries", "window_plan"]


def window_plan(d: Dialect, room_id: str, index: int) -> Plan[tuple[dict[int, str], dict[int, str]]]:
    """The lexical texts to write after appending event ``index`` (``storage.indexing.window_documents``)
    and the event ids by index; run in the appending transaction."""
    p = d.params()
    rows = yield Query(
        "SELECT e.event_id, e.idx, e.content, e.occurred_at, e.sensitivity, e.agent, i.display_name,"
        " (SELECT a.address FROM addresses AS a WHERE a.identity_id = e.sender_identity_id"
        " ORDER BY a.addr_seq LIMIT 1) AS address"
        " FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
        f" WHERE e.room_id = {p.add(room_id)}"
        f" AND e.idx BETWEEN {p.add(index - CONTEXT_AFTER - CONTEXT_BEFORE)} AND {p.add(index)}",
        p.values,
    )
    texts = []
    for r in rows:
        at = d.rows.load_time(r["occurred_at"])
        sender = sender_label(r["display_name"], r["address"], r["agent"])
        # Sealed confidential text stays out of the lexical index (storage.text.lexical_text).
        head = event_head(lexical_text(r["content"]), sender=sender, occurred_at=at)
        texts.append(EventText(r["idx"], at, r["sensitivity"], head))
    return window_documents(texts, index), {r["idx"]: r["event_id"] for r in rows}


class EventQueries(Reader, EventStore):
    """``EventStore``'s reads: one event, and a room's events in index order."""

    async def get_event(self, event_id: str, *, scope: Scope | None = None) -> Event:
        p = self.PARAMS()
        p.require(f"e.event_id = {p.add(event_id)}", *p.visible("r.namespace", "e.sensitivity", scope))
        row = await self._fetch_one(
            f"SELECT e.* FROM events AS e JOIN rooms AS r ON r.room_id = e.room_id WHERE {p.sql()}", p.values
        )
        if row is None:
            raise NotFoundError("event", event_id)
        return self.ROWS.event(row)

    async def list_events(
        self,
        room_id: str,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        after_index: int | None = None,
        before_index: int | None = None,
        visibility: Sequence[Visibility] | None = None,
        types: Sequence[str] | None = None,
        channel_types: Sequence[str] | None = None,
        sender_identity_id: str | None = None,
        scope: Scope | None = None,
    ) -> list[Event]:
        await readable_room(self, room_id, scope)
        p = self.PARAMS()
        p.require(f"room_id = {p.add(room_id)}")
        if after_index is not None:
            p.require(f"idx > {p.add(after_index)}")
        if before_index is not None:
            p.require(f"idx < {p.add(before_index)}")
        if visibility:
            p.require(p.equals_any("visibility", [Visibility(v).value for v in visibility]))
        if types:
            p.require(p.equals_any("type", list(types)))
        if channel_types:
            p.require(p.equals_any("channel_type", list(channel_types)))
        if sender_identity_id is not None:
            p.require(f"sender_identity_id = {p.add(sender_identity_id)}")
        if scope is not None:
            p.require(p.at_most("sensitivity", scope.max_sensitivity.level))
        # ``before_index`` alone: the events just before it, so scan downwards and reverse.
        descending = before_index is not None and after_index is None
        rows = await self._fetch(
            f"SELECT * FROM events WHERE {p.sql()} ORDER BY idx {'DESC' if descending else 'ASC'}"
            f" LIMIT {p.add(clamp_limit(limit))}",
            p.values,
        )
        events = [self.ROWS.event(r) for r in rows]
        return events[::-1] if descending else events
