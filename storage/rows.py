"""Database rows to ``storage.models`` records, written once for every backend.

A row is a mapping ``{column: value}`` (an ``apsw`` dict row or an ``asyncpg.Record``) whose column names
are the same in both schemas (migrations 0007-0009 renamed the stragglers). What differs between the
dialects is only how a value is stored, and a backend says that with two functions:

* ``load_time``: a stored timestamp to a tz-aware UTC ``datetime`` (SQLite: fixed-width ISO-8601 text,
  ``storage.paging.isoformat``; PostgreSQL: ``timestamptz``, already a ``datetime``);
* ``load_json``: a stored JSON value to Python (SQLite: JSON text; PostgreSQL: ``jsonb`` decoded by the
  pool's codec, ``text[]`` decoded by asyncpg, so the identity).

Sensitivity is stored as its level (0 public, 1 internal, 2 confidential; ``Sensitivity.level``).

Usage, once per backend (``storage/<backend>/rows.py``)::

    ROWS = Rows(load_time=datetime.fromisoformat, load_json=json.loads)
    room = ROWS.room(row)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import (
    Address,
    AuditOutcome,
    AuditRecord,
    ChannelBinding,
    ConversationState,
    Entity,
    Escalation,
    Event,
    EventSource,
    Fact,
    HandoffPackage,
    Identity,
    InboxItem,
    Memory,
    Participant,
    Relation,
    Room,
    Sensitivity,
    Session,
    Snapshot,
    TaskRecord,
)

__all__ = ["Row", "Rows", "sensitivity_from_stored"]

Row = Mapping[str, Any]

_BY_LEVEL = {s.level: s for s in Sensitivity}


def sensitivity_from_stored(value: int | str) -> Sensitivity:
    """A stored sensitivity as the enum.

    Args:
        value: the level (0..2), as both schemas store it; a name (``"internal"``) is read too, as SQLite
            tables not yet migrated by 0007-0009 hold it.

    Raises:
        KeyError / ValueError: not a known level or name (a corrupt row).
    """
    return _BY_LEVEL[value] if isinstance(value, int) else Sensitivity(value)


@dataclass(frozen=True)
class Rows:
    """The row -> record mappers of one dialect.

    Attributes:
        load_time: stored timestamp -> tz-aware UTC ``datetime``.
        load_json: stored JSON value -> Python value (dict, list, str, number, bool or None).
    """

    load_time: Callable[[Any], datetime]
    load_json: Callable[[Any], Any]

    def _opt_time(self, value: Any) -> datetime | None:
        return None if value is None else self.load_time(value)

    def session(self, row: Row) -> Session:
        """A ``sessions`` row as a ``Session``."""
        return Session(
            session_id=row["session_id"],
            namespace=row["namespace"],
            metadata=self.load_json(row["metadata"]),
            created_by=row["created_by"],
            created_at=self.load_time(row["created_at"]),
        )

    def room(self, row: Row) -> Room:
        """A ``rooms`` row as a ``Room`` (with its conversation state)."""
        return Room(
            room_id=row["room_id"],
            namespace=row["namespace"],
            name=row["name"],
            status=row["status"],
            metadata=self.load_json(row["metadata"]),
            state=ConversationState(
                active_agent=row["active_agent"],
                phase=row["phase"],
                handoff_count=row["handoff_count"],
                version=row["state_version"],
                updated_at=self.load_time(row["state_updated_at"]),
            ),
            last_event_index=row["last_event_index"],
            created_by=row["created_by"],
            created_at=self.load_time(row["created_at"]),
            closed_at=self._opt_time(row["closed_at"]),
        )

    def participant(self, row: Row) -> Participant:
        """A ``participants`` row as a ``Participant``."""
        return Participant(
            room_id=row["room_id"],
            participant_id=row["participant_id"],
            kind=row["kind"],
            role=row["role"],
            joined_at=self.load_time(row["joined_at"]),
            left_at=self._opt_time(row["left_at"]),
        )

    def binding(self, row: Row) -> ChannelBinding:
        """A ``channel_bindings`` row as a ``ChannelBinding``."""
        return ChannelBinding(
            room_id=row["room_id"],
            channel_id=row["channel_id"],
            channel_type=row["channel_type"],
            config=self.load_json(row["config"]),
            created_at=self.load_time(row["created_at"]),
            updated_at=self.load_time(row["updated_at"]),
        )

    def event(self, row: Row) -> Event:
        """An ``events`` row as an ``Event`` (column ``idx`` is the field ``index``, a SQL keyword)."""
        return Event(
            event_id=row["event_id"],
            room_id=row["room_id"],
            index=row["idx"],
            type=row["type"],
            content=row["content"],
            visibility=row["visibility"],
            sensitivity=sensitivity_from_stored(row["sensitivity"]),
            source=EventSource(
                channel_type=row["channel_type"],
                channel_id=row["channel_id"],
                sender_identity_id=row["sender_identity_id"],
                agent=row["agent"],
            ),
            metadata=self.load_json(row["metadata"]),
            idempotency_key=row["idempotency_key"],
            occurred_at=self.load_time(row["occurred_at"]),
            created_at=self.load_time(row["created_at"]),
        )

    def identity(self, row: Row, addresses: Sequence[Row]) -> Identity:
        """An ``identities`` row and its ``addresses`` rows (oldest first) as an ``Identity``."""
        return Identity(
            identity_id=row["identity_id"],
            display_name=row["display_name"],
            metadata=self.load_json(row["metadata"]),
            addresses=[
                Address(
                    channel_type=a["channel_type"],
                    address=a["address"],
                    identity_id=a["identity_id"],
                    created_at=self.load_time(a["created_at"]),
                )
                for a in addresses
            ],
            created_at=self.load_time(row["created_at"]),
        )

    def memory(self, row: Row) -> Memory:
        """A ``memories`` row as a ``Memory``."""
        return Memory(
            memory_id=row["memory_id"],
            namespace=row["namespace"],
            content=row["content"],
            kind=row["kind"],
            session_id=row["session_id"],
            tags=self.load_json(row["tags"]),
            metadata=self.load_json(row["metadata"]),
            sensitivity=sensitivity_from_stored(row["sensitivity"]),
            importance=row["importance"],
            author=row["author"],
            room_id=row["room_id"],
            task_id=row["task_id"],
            created_at=self.load_time(row["created_at"]),
            updated_at=self.load_time(row["updated_at"]),
        )

    def task(self, row: Row) -> TaskRecord:
        """A ``tasks`` row as a ``TaskRecord``."""
        return TaskRecord(
            task_id=row["task_id"],
            title=row["title"],
            description=row["description"],
            status=row["status"],
            priority=row["priority"],
            assignee=row["assignee"],
            room_id=row["room_id"],
            namespace=row["namespace"],
            metadata=self.load_json(row["metadata"]),
            created_by=row["created_by"],
            version=row["version"],
            created_at=self.load_time(row["created_at"]),
            updated_at=self.load_time(row["updated_at"]),
            completed_at=None if row["completed_at"] is None else self.load_time(row["completed_at"]),
            reopen_count=row["reopen_count"],
            claim_count=row["claim_count"],
        )

    def escalation(self, row: Row) -> Escalation:
        """An ``escalations`` row (its handoff package stored as JSON) as an ``Escalation``."""
        return Escalation(
            escalation_id=row["escalation_id"],
            room_id=row["room_id"],
            reason=row["reason"],
            queue=row["queue"],
            assignee=row["assignee"],
            priority=row["priority"],
            status=row["status"],
            created_by=row["created_by"],
            created_at=self.load_time(row["created_at"]),
            acknowledged_by=row["acknowledged_by"],
            acknowledged_at=self._opt_time(row["acknowledged_at"]),
            resolved_by=row["resolved_by"],
            resolved_at=self._opt_time(row["resolved_at"]),
            resolution=row["resolution"],
            handoff=HandoffPackage.model_validate(self.load_json(row["handoff"])),
        )

    def fact(self, row: Row) -> Fact:
        """A ``facts`` row as a ``Fact``."""
        return Fact(
            namespace=row["namespace"],
            key=row["key"],
            value=self.load_json(row["value"]),
            version=row["version"],
            sensitivity=sensitivity_from_stored(row["sensitivity"]),
            created_by=row["created_by"],
            updated_by=row["updated_by"],
            created_at=self.load_time(row["created_at"]),
            updated_at=self.load_time(row["updated_at"]),
        )

    def entity(self, row: Row) -> Entity:
        """An ``entities`` row as an ``Entity``."""
        return Entity(
            entity_id=row["entity_id"],
            namespace=row["namespace"],
            type=row["type"],
            name=row["name"],
            properties=self.load_json(row["properties"]),
            sensitivity=sensitivity_from_stored(row["sensitivity"]),
            created_by=row["created_by"],
            created_at=self.load_time(row["created_at"]),
            updated_at=self.load_time(row["updated_at"]),
        )

    def relation(self, row: Row) -> Relation:
        """A ``relations`` row as a ``Relation`` (columns ``from_id``/``to_id`` are ``source_id``/``target_id``)."""
        return Relation(
            relation_id=row["relation_id"],
            namespace=row["namespace"],
            source_id=row["from_id"],
            type=row["type"],
            target_id=row["to_id"],
            properties=self.load_json(row["properties"]),
            confidence=row["confidence"],
            discovered_by=row["discovered_by"],
            created_at=self.load_time(row["created_at"]),
            updated_at=self.load_time(row["updated_at"]),
        )

    def snapshot(self, row: Row) -> Snapshot:
        """A ``snapshots`` row as a ``Snapshot``."""
        return Snapshot(
            snapshot_id=row["snapshot_id"],
            namespace=row["namespace"],
            label=row["label"],
            seq=row["seq"],
            created_by=row["created_by"],
            created_at=self.load_time(row["created_at"]),
        )

    def audit_record(self, row: Row) -> AuditRecord:
        """An ``audit_log`` row as an ``AuditRecord`` (``ids``: JSON text on SQLite, ``text[]`` on PostgreSQL)."""
        return AuditRecord(
            seq=int(row["seq"]),
            agent=row["agent"],
            kind=row["kind"],
            name=row["name"],
            ids=list(self.load_json(row["ids"])),
            outcome=AuditOutcome(row["outcome"]),
            error_type=row["error_type"],
            duration_ms=float(row["duration_ms"]),
            at=self.load_time(row["at"]),
        )

    def inbox_item(self, row: Row) -> InboxItem:
        """An ``alerts`` row joined with its ``alert_recipients`` row (``acked_at``) as an ``InboxItem``."""
        return InboxItem(
            alert_id=row["alert_id"],
            sender=row["sender"],
            message=row["message"],
            severity=row["severity"],
            room_id=row["room_id"],
            metadata=self.load_json(row["metadata"]),
            created_at=self.load_time(row["created_at"]),
            acked_at=self._opt_time(row["acked_at"]),
        )
