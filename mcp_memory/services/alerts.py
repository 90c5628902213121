"""Alerts between agents: send to named agents, read your inbox, acknowledge.

Each agent's inbox is also the resource ``memory://agents/{agent}/inbox``; sending and acknowledging publish
its URI on the change bus (``services/changes.py``), so subscribers in every server process on the same
database hear when an alert arrives or is acknowledged.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.context import ServiceContext
from storage import InvalidInputError, PermissionDeniedError
from storage.models import Alert, AlertSeverity, InboxItem, NewAlert

__all__ = ["AlertService", "InboxPage", "inbox_uri"]

GROUP = "alerts"


def inbox_uri(agent: str) -> str:
    """The resource URI of ``agent``'s inbox: ``memory://agents/{agent}/inbox``."""
    return f"memory://agents/{agent}/inbox"


class InboxPage(BaseModel):
    """A page of an agent's inbox, newest first; continue with ``next_cursor``."""

    model_config = ConfigDict(frozen=True)

    agent: str
    alerts: list[InboxItem]
    next_cursor: str | None


class AlertService(AuditedArea, area="alerts"):
    """Alerts between the agents of a team."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def send_alert(
        self,
        principal: Principal,
        to_agents: list[str],
        message: str,
        *,
        severity: AlertSeverity = AlertSeverity.INFO,
        room_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Alert:
        """Deliver an alert to each agent's inbox.

        When the config lists agents (``agents.<name>``), every recipient must be one of them.

        Raises:
            InvalidInputError: an unknown recipient. NotFoundError: ``room_id`` names no room.
        """
        self._ctx.require_group(principal, GROUP)
        known = self._ctx.settings.agents
        unknown = sorted({a for a in to_agents if known and a not in known})
        if unknown:
            raise InvalidInputError(
                f"unknown agent(s) {', '.join(unknown)}: send to one of {', '.join(sorted(known))}"
            )
        if room_id is not None:
            await self._ctx.store.get_room(room_id, scope=principal.scope())  # hidden rooms: NotFound
        alert = await self._ctx.store.send_alert(
            NewAlert(
                sender=principal.agent,
                to_agents=to_agents,
                message=message,
                severity=severity,
                room_id=room_id,
                metadata=metadata or {},
            ).model_copy(update={"message": self._ctx.sealer.seal_text(message, kind="alert")})
        )
        await self._ctx.changes.publish(*(inbox_uri(agent) for agent in alert.recipients))
        return alert

    async def read_inbox(
        self,
        principal: Principal,
        *,
        agent: str | None = None,
        unacked_only: bool = True,
        limit: int = 20,
        cursor: str | None = None,
    ) -> InboxPage:
        """The caller's inbox (another agent's only for itself: inboxes are private).

        Raises:
            PermissionDeniedError: ``agent`` is not the caller.
        """
        self._ctx.require_group(principal, GROUP)
        owner = agent or principal.agent
        if owner != principal.agent:
            raise PermissionDeniedError(f"agent {principal.agent!r} may only read its own inbox")
        page = await self._ctx.store.list_inbox(
            owner, unacked_only=unacked_only, limit=self._ctx.page_size(limit), cursor=cursor
        )
        return InboxPage(agent=owner, alerts=page.items, next_cursor=page.next_cursor)

    async def ack_alert(self, principal: Principal, alert_id: str) -> InboxItem:
        """Acknowledge an alert of the caller's inbox (idempotent). Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        item = await self._ctx.store.ack_alert(alert_id, principal.agent)
        await self._ctx.changes.publish(inbox_uri(principal.agent))
        return item
