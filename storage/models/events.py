"""Event records: one entry of a room's timeline and what an append returns."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import Field

from storage.models.common import Id, Sensitivity, UtcDatetime, _Record

__all__ = ["AppendResult", "Event", "EventSource", "MAX_EVENT_CONTENT", "NewEvent", "Visibility"]


#: Longest stored content of an event / a memory. Plain text is capped lower (100,000 / 20,000 characters,
#: the tools' bounds); sealed confidential text (``enc:v1:`` + base64 of nonce, UTF-8 bytes and tag, up to
#: 4 bytes per character) is longer: 7 + 4 * ceil((28 + 4 * n) / 3) characters.
MAX_EVENT_CONTENT = 533_379


class Visibility(enum.StrEnum):
    """Who an event is for: ``all`` (every participant, customers included) or ``agents`` (agents only)."""

    ALL = "all"
    AGENTS = "agents"


class EventSource(_Record):
    """Where an event came from: the channel, the sending person's identity, and/or the writing agent."""

    channel_type: str | None = Field(default=None, max_length=64)
    channel_id: str | None = Field(default=None, max_length=200)
    sender_identity_id: str | None = Field(default=None, max_length=128)
    agent: str | None = Field(default=None, max_length=128)


class NewEvent(_Record):
    """An event to append to a room's timeline.

    ``idempotency_key``: a retry with the same key in the same room returns the first event unchanged.
    ``occurred_at``: when it happened (defaults to now); the store records ``created_at`` itself.
    """

    room_id: Id
    type: str = Field(default="message", min_length=1, max_length=64)
    content: str = Field(max_length=MAX_EVENT_CONTENT)
    visibility: Visibility = Visibility.ALL
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    source: EventSource = Field(default_factory=EventSource)
    metadata: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    occurred_at: UtcDatetime | None = None


class Event(_Record):
    """One entry of a room's timeline; ``index`` is per room, starts at 1, monotonic and gapless."""

    event_id: str
    room_id: str
    index: int
    type: str
    content: str
    visibility: Visibility
    sensitivity: Sensitivity
    source: EventSource
    metadata: dict[str, Any]
    idempotency_key: str | None
    occurred_at: datetime
    created_at: datetime


class AppendResult(_Record):
    """Outcome of ``append_event``: ``created`` is False when an idempotency key matched an earlier event."""

    event: Event
    created: bool
