"""Conversions between SQLite values and the records of ``storage.models``.

Timestamps are stored as fixed-width ISO-8601 UTC text (``storage.paging.isoformat``), which sorts in time
order; JSON columns hold compact JSON text; embeddings are float32 little-endian blobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import apsw
import numpy as np

from storage.errors import InvalidInputError
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
    Page,
    Participant,
    Room,
    TaskRecord,
)
from storage.paging import encode_cursor, isoformat

__all__ = [
    "escalation_from_row",
    "event_from_row",
    "fetch_all",
    "fetch_one",
    "from_ts",
    "identity_from_rows",
    "make_page",
    "memory_from_row",
    "pack_embedding",
    "participant_from_row",
    "room_from_row",
    "binding_from_row",
    "task_from_row",
    "to_json",
    "ts",
]

Row = dict[str, Any]
T = TypeVar("T")


def ts(value: datetime) -> str:
    """A tz-aware datetime as stored text (UTC, microseconds, fixed width)."""
    return isoformat(value.astimezone(UTC))


def from_ts(value: str) -> datetime:
    """Stored text back to a tz-aware UTC datetime."""
    return datetime.fromisoformat(value)


def _opt_ts(value: str | None) -> datetime | None:
    return None if value is None else from_ts(value)


def to_json(value: Any, what: str = "metadata") -> str:
    """Compact JSON text of ``value``.

    Raises:
        InvalidInputError: ``value`` is not JSON (a date, bytes, NaN...).
    """
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{what} must be JSON values (strings, numbers, booleans, lists, objects)"
        ) from exc


def pack_embedding(embedding: Sequence[float]) -> bytes:
    """float32[dimensions] little-endian bytes, as sqlite-vec reads them.

    Raises:
        InvalidInputError: empty, or holding NaN or infinity.
    """
    array = np.asarray(embedding, dtype="<f4")
    if array.ndim != 1 or array.size == 0:
        raise InvalidInputError("an embedding must be a non-empty list of floats")
    if not bool(np.isfinite(array).all()):
        raise InvalidInputError("an embedding must hold finite floats (no NaN or infinity)")
    return array.tobytes()


def room_from_row(row: Row) -> Room:
    """A ``rooms`` row as a ``Room``."""
    return Room(
        room_id=row["room_id"],
        namespace=row["namespace"],
        name=row["name"],
        status=row["status"],
        metadata=json.loads(row["metadata"]),
        state=ConversationState(
            active_agent=row["active_agent"],
            phase=row["phase"],
            handoff_count=row["handoff_count"],
            version=row["state_version"],
            updated_at=from_ts(row["state_updated_at"]),
        ),
        last_event_index=row["last_event_index"],
        created_by=row["created_by"],
        created_at=from_ts(row["created_at"]),
        closed_at=_opt_ts(row["closed_at"]),
    )


def participant_from_row(row: Row) -> Participant:
    """A ``participants`` row as a ``Participant``."""
    return Participant(
        room_id=row["room_id"],
        participant_id=row["participant_id"],
        kind=row["kind"],
        role=row["role"],
        joined_at=from_ts(row["joined_at"]),
        left_at=_opt_ts(row["left_at"]),
    )


def binding_from_row(row: Row) -> ChannelBinding:
    """A ``channel_bindings`` row as a ``ChannelBinding``."""
    return ChannelBinding(
        room_id=row["room_id"],
        channel_id=row["channel_id"],
        channel_type=row["channel_type"],
        config=json.loads(row["config"]),
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
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
        sensitivity=row["sensitivity"],
        source=EventSource(
            channel_type=row["source_channel_type"],
            channel_id=row["source_channel_id"],
            sender_identity_id=row["sender_identity_id"],
            agent=row["source_agent"],
        ),
        metadata=json.loads(row["metadata"]),
        idempotency_key=row["idempotency_key"],
        occurred_at=from_ts(row["occurred_at"]),
        created_at=from_ts(row["created_at"]),
    )


def identity_from_rows(row: Row, addresses: list[Row]) -> Identity:
    """An ``identities`` row and its ``addresses`` rows (oldest first) as an ``Identity``."""
    return Identity(
        identity_id=row["identity_id"],
        display_name=row["display_name"],
        metadata=json.loads(row["metadata"]),
        addresses=[
            Address(
                channel_type=a["channel_type"],
                address=a["address"],
                identity_id=a["identity_id"],
                created_at=from_ts(a["created_at"]),
            )
            for a in addresses
        ],
        created_at=from_ts(row["created_at"]),
    )


def memory_from_row(row: Row) -> Memory:
    """A ``memories`` row as a ``Memory``."""
    return Memory(
        memory_id=row["memory_id"],
        namespace=row["namespace"],
        content=row["content"],
        kind=row["kind"],
        session_id=row["session_id"],
        tags=json.loads(row["tags"]),
        metadata=json.loads(row["metadata"]),
        sensitivity=row["sensitivity"],
        importance=row["importance"],
        author=row["author"],
        room_id=row["room_id"],
        task_id=row["task_id"],
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
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
        metadata=json.loads(row["metadata"]),
        created_by=row["created_by"],
        version=row["version"],
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
        completed_at=_opt_ts(row["completed_at"]),
        reopen_count=row["reopen_count"],
        claim_count=row["claim_count"],
    )


def escalation_from_row(row: Row) -> Escalation:
    """An ``escalations`` row (with its handoff package JSON) as an ``Escalation``."""
    return Escalation(
        escalation_id=row["escalation_id"],
        room_id=row["room_id"],
        reason=row["reason"],
        queue=row["queue"],
        assignee=row["assignee"],
        priority=row["priority"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=from_ts(row["created_at"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=_opt_ts(row["acknowledged_at"]),
        resolved_by=row["resolved_by"],
        resolved_at=_opt_ts(row["resolved_at"]),
        resolution=row["resolution"],
        handoff=HandoffPackage.model_validate_json(row["handoff"]),
    )


def make_page(rows: list[Row], limit: int, convert: Callable[[Row], T], *key_columns: str) -> Page[T]:
    """A page of ``limit`` items from ``limit + 1`` fetched rows; the cursor is the last row's sort key."""
    items = [convert(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(*(last[c] for c in key_columns))
    return Page(items=items, next_cursor=next_cursor)


def fetch_one(conn: apsw.Connection, sql: str, params: Sequence[Any] = ()) -> Row | None:
    """First row of a query as ``{column: value}`` (connections carry the ``dict_row`` tracer)."""
    return cast("Row | None", conn.execute(sql, params).fetchone())


def fetch_all(conn: apsw.Connection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Every row of a query as ``{column: value}``."""
    return cast("list[Row]", conn.execute(sql, params).fetchall())
