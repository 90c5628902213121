"""The EventStore contract. A room's timeline: gapless per-room indexes, idempotency keys.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.models import (
    AppendResult,
    Event,
    NewEvent,
    Visibility,
)
from storage.paging import DEFAULT_PAGE_SIZE
from storage.scope import Scope

__all__ = ["EventStore"]


class EventStore(abc.ABC):
    """A room's timeline: gapless per-room indexes, idempotency keys."""

    @abc.abstractmethod
    async def append_event(
        self, event: NewEvent, embedding: Sequence[float] | None = None, *, scope: Scope | None = None
    ) -> AppendResult:
        """Append an event to a room's timeline.

        The new event's ``index`` is the room's ``last_event_index + 1``: indexes MUST stay monotonic and
        gapless under any number of concurrent writers (threads, processes, machines). With an
        ``idempotency_key`` already used in this room, the first event is returned with ``created=False``
        and nothing is written. ``embedding`` (float32[dimensions], L2-normalised) makes the event
        searchable by meaning. With a ``scope``, the room must be readable (else ``NotFoundError``) and
        writable, and the event's sensitivity within its clearance (else ``PermissionDeniedError``),
        checked before the idempotency key so a denied writer learns nothing of earlier events.

        Raises:
            NotFoundError: no such room (readable in ``scope``).
            PermissionDeniedError: the room's namespace is not writable, or the sensitivity is above the
                clearance of ``scope``.
            ConflictError: the room is closed.
            InvalidInputError: the embedding's size differs from the store's.
        """

    @abc.abstractmethod
    async def get_event(self, event_id: str, *, scope: Scope | None = None) -> Event:
        """Return one event. Raises: NotFoundError (also when above the scope's clearance or in a room
        whose namespace the scope does not read)."""

    @abc.abstractmethod
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
        """List a room's events in ascending ``index`` order.

        ``after_index`` returns the first ``limit`` events after it; ``before_index`` alone returns the
        ``limit`` events just before it (still ascending); neither returns the first ``limit`` events.
        ``visibility``, ``types`` and ``channel_types`` keep only events with one of the values given;
        ``sender_identity_id`` only events that person sent; the scope drops events above its clearance.

        Raises:
            NotFoundError: no such room, or its namespace is not readable in ``scope``.
        """
