"""Events, the rule both backends share: the statement that reads a room's timeline with its filters.

The ``events`` table has the same columns in both schemas (``channel_type``, ``sender_identity_id``,
``sensitivity`` as a level...), so the listing SQL is built here once with the dialect's ``Params``
(``storage.filters``); a backend checks the room is readable, runs it, maps the rows and, when
``newest_first``, reverses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.filters import Params, all_of
from storage.models import Visibility
from storage.scope import Scope

__all__ = ["TimelineQuery"]


@dataclass(frozen=True)
class TimelineQuery:
    """What ``EventStore.list_events`` reads from one room (see its contract for the meaning).

    Attributes:
        room_id: the room. limit: most events returned (already clamped).
        after_index / before_index: exclusive index bounds; ``before_index`` alone reads the events just
            before it (scanned newest first, returned oldest first).
        visibility, types, channel_types: keep events with one of these values (empty: no filter).
        sender_identity_id: keep events sent by this person.
    """

    room_id: str
    limit: int
    after_index: int | None = None
    before_index: int | None = None
    visibility: Sequence[Visibility] = field(default_factory=tuple)
    types: Sequence[str] = field(default_factory=tuple)
    channel_types: Sequence[str] = field(default_factory=tuple)
    sender_identity_id: str | None = None

    @property
    def newest_first(self) -> bool:
        """Whether the statement scans downwards (the caller reverses the rows to ascending order)."""
        return self.before_index is not None and self.after_index is None

    def sql(self, p: Params, scope: Scope | None) -> str:
        """SQL selecting the room's events matching this query within ``scope``'s clearance."""
        conds = [f"room_id = {p.add(self.room_id)}"]
        if self.after_index is not None:
            conds.append(f"idx > {p.add(self.after_index)}")
        if self.before_index is not None:
            conds.append(f"idx < {p.add(self.before_index)}")
        if self.visibility:
            conds.append(p.equals_any("visibility", [Visibility(v).value for v in self.visibility]))
        if self.types:
            conds.append(p.equals_any("type", list(self.types)))
        if self.channel_types:
            conds.append(p.equals_any("channel_type", list(self.channel_types)))
        if self.sender_identity_id is not None:
            conds.append(f"sender_identity_id = {p.add(self.sender_identity_id)}")
        if scope is not None:
            conds.append(p.at_most("sensitivity", scope.max_sensitivity.level))
        order = "DESC" if self.newest_first else "ASC"
        return f"SELECT * FROM events WHERE {all_of(conds)} ORDER BY idx {order} LIMIT {p.add(self.limit)}"
