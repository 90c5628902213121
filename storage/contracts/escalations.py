"""The EscalationStore contract. Escalations: a hand-over to a human with a frozen handoff package.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.models import (
    Escalation,
    EscalationStatus,
    NewEscalation,
    Page,
)
from storage.paging import DEFAULT_PAGE_SIZE
from storage.scope import Scope

__all__ = ["EscalationStore"]


class EscalationStore(abc.ABC):
    """Escalations: a hand-over to a human with a frozen handoff package."""

    @abc.abstractmethod
    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        """Escalate a room to a human, freezing its handoff package in the same transaction.

        The package holds the room, its last ``event_limit`` events, its observation and decision
        memories, its open tasks and the customer's identity (see ``HandoffPackage``); with
        ``escalation.task_id``, also that task and the memories recorded for it.

        Raises:
            NotFoundError: no such room, or no such task.
            InvalidInputError: the task belongs to another room.
        """

    @abc.abstractmethod
    async def get_escalation(self, escalation_id: str, *, scope: Scope | None = None) -> Escalation:
        """Return an escalation with its handoff package.

        Raises:
            NotFoundError: no such escalation, or its room's namespace is not readable in ``scope``.
        """

    @abc.abstractmethod
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
        """List escalations of rooms readable in ``scope``, newest first. Raises: InvalidInputError."""

    @abc.abstractmethod
    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        """Move an open escalation to ``acknowledged``.

        Raises:
            NotFoundError: no such escalation.
            ConflictError: it is not open.
        """

    @abc.abstractmethod
    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        """Resolve an open or acknowledged escalation.

        Raises:
            NotFoundError: no such escalation.
            ConflictError: it is already resolved.
        """
