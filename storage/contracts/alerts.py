"""The alerts part of the storage contract: ``AlertStore`` (mixed into ``MemoryStore``).

An alert is written once with one inbox row per recipient; each recipient acknowledges it in its own
inbox. Guarantees use MUST / SHOULD (RFC 2119).
"""

from __future__ import annotations

import abc

from storage.models import Alert, InboxItem, NewAlert, Page

__all__ = ["AlertStore"]


class AlertStore(abc.ABC):
    """Alerts between agents and one inbox per agent."""

    @abc.abstractmethod
    async def send_alert(self, alert: NewAlert) -> Alert:
        """Store an alert and deliver it to every recipient's inbox in one transaction."""

    @abc.abstractmethod
    async def list_inbox(
        self, agent: str, *, unacked_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> Page[InboxItem]:
        """The alerts delivered to ``agent``, newest first (then by id); paged by an opaque cursor.

        Raises:
            InvalidInputError: bad cursor.
        """

    @abc.abstractmethod
    async def ack_alert(self, alert_id: str, agent: str) -> InboxItem:
        """Mark an alert acknowledged in ``agent``'s inbox; acknowledging again changes nothing.

        Raises:
            NotFoundError: no such alert in ``agent``'s inbox.
        """
