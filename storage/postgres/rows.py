"""Database rows to ``storage.models`` records (one function per table)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.models import (
    Address,
    ChannelBinding,
    ConversationState,
    Escalation,
    Event,
    EventSource,
    HandoffPackage,
    Identity,
    Memory,
    Participant,
    Room,
    Sensitivity,
    TaskRecord,
)

__all__ = [
    "LEVEL_TO_SENSITIVITY",
    "binding_from_row",
    "escalation_from_row",
    "event_from_row",
    "identity_from_rows",
    "memory_from_row",
    "participant_from_row",
    "room_from_row",
    "task_from_row",
]

Row = Mapping[str, Any]

#: Stored sensitivity level -> enum (``Sensitivity.level`` is the inverse).
LEVEL_TO_SENSITIVITY = {s.level: s for s in Sensitivity}


def room_from_row(row: Row) -> Room:
    """A ``rooms`` row as a ``Room`` (with its conversation state)."""
    return Room(
        room_id=row["room_id"],
        namespace=row["namespace"],
        name=row["name"],
        status=row["status"],
        metadata=row["metadata"],
        state=ConversationState(
            active_agent=row["active_agent"],
            phase=row["phase"],
            handoff_count=row["handoff_count"],
            version=row["state_version"],
            updated_at=row["state_updated_at"],
        ),
        last_event_index=row["last_event_index"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        closed_at=row["closed_at"],
    )


def participant_from_row(row: Row) -> Participant:
    """A ``participants`` row as a ``Participant``."""
    return Participant(
        room_id=row["room_id"],
        participant_id=row["participant_id"],
        kind=row["kind"],
        role=row["role"],
        joined_at=row["joined_at"],
        left_at=row["left_at"],
    )


def binding_from_row(row: Row) -> ChannelBinding:
    """A ``channel_bindings`` row as a ``ChannelBinding``."""
    return ChannelBinding(
        room_id=row["room_id"],
        channel_id=row["channel_id"],
        channel_type=row["channel_type"],
        config=row["config"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def event_from_row(row: Row) -> Event:
    """An ``events`` row as an ``Event``."""
    return Event(
        event_id=row["event_id"],
        room_id=row["room_id"],
        index=row["idx"],
        type=row["type"],
        content=row["content"],
        visibility=row["visibility"],
        sensitivity=LEVEL_TO_SENSITIVITY[row["sensitivity"]],
        source=EventSource(
            channel_type=row["channel_type"],
            channel_id=row["channel_id"],
            sender_identity_id=row["sender_identity_id"],
            agent=row["agent"],
        ),
        metadata=row["metadata"],
        idempotency_key=row["idempotency_key"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
    )


def identity_from_rows(row: Row, addresses: list[Row]) -> Identity:
    """An ``identities`` row and its ``addresses`` rows (oldest first) as an ``Identity``."""
    return Identity(
        identity_id=row["identity_id"],
        display_name=row["display_name"],
        metadata=row["metadata"],
        addresses=[
            Address(
                channel_type=a["channel_type"],
                address=a["address"],
                identity_id=a["identity_id"],
                created_at=a["created_at"],
            )
            for a in addresses
        ],
        created_at=row["created_at"],
    )


def memory_from_row(row: Row) -> Memory:
    """A ``memories`` row as a ``Memory``."""
    return Memory(
        memory_id=row["memory_id"],
        namespace=row["namespace"],
        content=row["content"],
        kind=row["kind"],
        session_id=row["session_id"],
        tags=row["tags"],
        metadata=row["metadata"],
        sensitivity=LEVEL_TO_SENSITIVITY[row["sensitivity"]],
        importance=row["importance"],
        author=row["author"],
        room_id=row["room_id"],
        task_id=row["task_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def task_from_row(row: Row) -> TaskRecord:
    """A ``tasks`` row as a ``TaskRecord``."""
    return TaskRecord(
        task_id=row["task_id"],
        title=row["title"],
        description=row["description"],
        status=row["status"],
        priority=row["priority"],
        assignee=row["assignee"],
        room_id=row["room_id"],
        metadata=row["metadata"],
        created_by=row["created_by"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        reopen_count=row["reopen_count"],
        claim_count=row["claim_count"],
    )


def escalation_from_row(row: Row) -> Escalation:
    """An ``escalations`` row (handoff package stored as JSON) as an ``Escalation``."""
    return Escalation(
        escalation_id=row["escalation_id"],
        room_id=row["room_id"],
        reason=row["reason"],
        queue=row["queue"],
        assignee=row["assignee"],
        priority=row["priority"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        resolution=row["resolution"],
        handoff=HandoffPackage.model_validate(row["handoff"]),
    )
