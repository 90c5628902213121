"""Escalations: hand a room to a human with a frozen handoff package."""

from __future__ import annotations

from collections.abc import Awaitable

from mcp_memory.auth import Principal
from mcp_memory.services.changes import escalation_uri, room_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.results import EscalationPage, EscalationSummary
from storage import ConflictError, PermissionDeniedError
from storage.models import Escalation, EscalationStatus, NewEscalation

__all__ = ["EscalationService"]

GROUP = "escalations"


class EscalationService:
    """Create, list, acknowledge and resolve escalations."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def escalate(
        self,
        principal: Principal,
        room_id: str,
        reason: str,
        *,
        queue: str | None = None,
        assignee: str | None = None,
        priority: int = 2,
    ) -> Escalation:
        """Escalate a room; its events, observations, decisions, open tasks, customer and facts are frozen.

        Raises:
            PermissionDeniedError: the caller's policy does not allow escalating.
            NotFoundError: no such room.
        """
        self._ctx.require_group(principal, GROUP)
        if not principal.policy.may_escalate:
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not escalate (policy may_escalate=false)"
            )
        escalation = await self._ctx.store.create_escalation(
            NewEscalation(
                room_id=room_id,
                reason=reason,
                queue=queue,
                assignee=assignee,
                priority=priority,
                created_by=principal.agent,
            ),
            event_limit=self._ctx.settings.limits.handoff_event_limit,
        )
        await self._ctx.changes.publish(escalation_uri(escalation.escalation_id), room_uri(room_id))
        return escalation

    async def get_escalation(self, principal: Principal, escalation_id: str) -> Escalation:
        """Return an escalation with its full handoff package. Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        return await self._ctx.store.get_escalation(escalation_id)

    async def list_escalations(
        self,
        principal: Principal,
        *,
        status: list[EscalationStatus] | None = None,
        room_id: str | None = None,
        queue: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> EscalationPage:
        """List escalations (summaries without packages), newest first."""
        self._ctx.require_group(principal, GROUP)
        limit = self._ctx.page_size(limit)
        page = await self._ctx.store.list_escalations(
            status=status, room_id=room_id, queue=queue, limit=limit, cursor=cursor
        )
        return EscalationPage(escalations=[summarize(e) for e in page.items], next_cursor=page.next_cursor)

    async def acknowledge(self, principal: Principal, escalation_id: str) -> Escalation:
        """Take an open escalation (status ``acknowledged``).

        Raises:
            PermissionDeniedError: the policy does not allow handling escalations.
            NotFoundError, ConflictError: unknown, or not open.
        """
        self._require_handler(principal)
        escalation = await self._explain(
            self._ctx.store.acknowledge_escalation(escalation_id, principal.agent)
        )
        await self._ctx.changes.publish(escalation_uri(escalation_id))
        return escalation

    async def resolve(self, principal: Principal, escalation_id: str, resolution: str) -> Escalation:
        """Close an escalation with a resolution note.

        Raises:
            PermissionDeniedError: the policy does not allow resolving escalations.
            NotFoundError, ConflictError: unknown, or already resolved.
        """
        self._require_handler(principal)
        escalation = await self._explain(
            self._ctx.store.resolve_escalation(escalation_id, principal.agent, resolution)
        )
        await self._ctx.changes.publish(escalation_uri(escalation_id))
        return escalation

    def _require_handler(self, principal: Principal) -> None:
        self._ctx.require_group(principal, GROUP)
        if not principal.policy.may_resolve_escalations:
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not acknowledge or resolve escalations "
                "(policy may_resolve_escalations=false)"
            )

    @staticmethod
    async def _explain(pending: Awaitable[Escalation]) -> Escalation:
        try:
            return await pending
        except ConflictError as exc:
            current = exc.current if isinstance(exc.current, Escalation) else None
            if current is None:
                raise
            by = current.resolved_by or current.acknowledged_by
            raise ConflictError(
                f"escalation {current.escalation_id} is already {current.status.value}"
                + (f" (by {by})" if by else "")
                + ": list_escalations shows the open ones",
                current=current,
            ) from None


def summarize(escalation: Escalation) -> EscalationSummary:
    """An escalation without its handoff package."""
    return EscalationSummary(
        escalation_id=escalation.escalation_id,
        room_id=escalation.room_id,
        reason=escalation.reason,
        queue=escalation.queue,
        assignee=escalation.assignee,
        priority=escalation.priority,
        status=escalation.status,
        created_by=escalation.created_by,
        created_at=escalation.created_at,
        resolution=escalation.resolution,
        handoff_event_count=len(escalation.handoff.events),
        handoff_open_task_count=len(escalation.handoff.open_tasks),
        handoff_fact_count=len(escalation.handoff.facts),
    )
