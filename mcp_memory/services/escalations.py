"""Escalations: hand a room to a human with a frozen handoff package.

An escalation is visible to the agents that may read its room (the store applies the scope in SQL).
Its package is frozen with everything the room held; a reader gets it cut to its own scope (events
above its clearance, memories in namespaces it does not read or above its clearance are left out).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mcp_memory.auth import Principal
from mcp_memory.services.alerts import inbox_uri
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import escalation_uri, room_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.results import EscalationPage, EscalationSummary
from storage import ConflictError, InvalidInputError, PermissionDeniedError
from storage.models import (
    AlertSeverity,
    Escalation,
    EscalationStatus,
    GraphTraversal,
    Memory,
    NewAlert,
    NewEscalation,
)

__all__ = ["EscalationService"]

GROUP = "escalations"

#: Severity of the inbox alert an escalation of each priority (0 low .. 3 urgent) sends.
ALERT_SEVERITY = {
    0: AlertSeverity.INFO,
    1: AlertSeverity.INFO,
    2: AlertSeverity.WARNING,
    3: AlertSeverity.CRITICAL,
}

#: Longest excerpt of the reason an escalation alert carries (the alert holds at most 4,000 characters).
ALERT_REASON_CHARS = 3_000


class EscalationService(AuditedArea, area="escalations"):
    """Create, list, acknowledge and resolve escalations."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    @property
    def _directory(self) -> str:
        return self._ctx.settings.identities.directory_namespace

    async def escalate(
        self,
        principal: Principal,
        room_id: str | None,
        reason: str,
        *,
        task_id: str | None = None,
        queue: str | None = None,
        assignee: str | None = None,
        priority: int = 2,
    ) -> Escalation:
        """Escalate a room; its events, observations, decisions, open tasks, customer and facts are frozen.

        The assignee and the queue (an inbox named after it: the agent of that name reads it) each get an
        alert in their inbox at once, and the inboxes' subscribers are notified.

        From a task (``task_id``; ``room_id`` defaults to the task's room), the package also holds the task
        and the memories recorded for it.

        Raises:
            PermissionDeniedError: the caller's policy does not allow escalating.
            NotFoundError: no such room the caller may read, or no such task.
            InvalidInputError: neither a room nor a task with a room, or a task of another room.
        """
        self._ctx.require_group(principal, GROUP)
        if not principal.policy.may_escalate:
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not escalate (policy may_escalate=false)"
            )
        if room_id is None:
            if task_id is None:
                raise InvalidInputError("give room_id, or task_id of a task that belongs to a room")
            room_id = (await self._ctx.store.get_task(task_id, scope=principal.scope())).room_id
            if room_id is None:
                raise InvalidInputError(f"task {task_id!r} belongs to no room: pass the room_id to escalate")
        await self._ctx.store.get_room(room_id, scope=principal.scope())
        alert = _alert(principal.agent, room_id, reason, queue=queue, assignee=assignee, priority=priority)
        escalation = await self._ctx.store.create_escalation(
            NewEscalation(
                room_id=room_id,
                task_id=task_id,
                reason=reason,
                queue=queue,
                assignee=assignee,
                priority=priority,
                created_by=principal.agent,
            ).model_copy(update={"reason": self._ctx.sealer.seal_text(reason, kind="escalation")}),
            event_limit=self._ctx.settings.limits.handoff_event_limit,
        )
        uris = [escalation_uri(escalation.escalation_id), room_uri(room_id)]
        if alert is not None:
            meta = {**alert.metadata, "escalation_id": escalation.escalation_id}
            message = self._ctx.sealer.seal_text(alert.message, kind="alert")
            sent = await self._ctx.store.send_alert(
                alert.model_copy(update={"metadata": meta, "message": message})
            )
            uris += [inbox_uri(agent) for agent in sent.recipients]
        await self._ctx.changes.publish(*uris)
        return self._ctx.sealer.reveal(visible_to(principal, escalation, self._directory))

    async def get_escalation(self, principal: Principal, escalation_id: str) -> Escalation:
        """Return an escalation with its handoff package (cut to the caller's scope). Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        found = await self._ctx.store.get_escalation(escalation_id, scope=principal.scope())
        return self._ctx.sealer.reveal(visible_to(principal, found, self._directory))

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
            status=status, room_id=room_id, queue=queue, limit=limit, cursor=cursor, scope=principal.scope()
        )
        summaries = [summarize(visible_to(principal, e, self._directory)) for e in page.items]
        return EscalationPage(escalations=summaries, next_cursor=page.next_cursor)

    async def acknowledge(self, principal: Principal, escalation_id: str) -> Escalation:
        """Take an open escalation (status ``acknowledged``).

        Raises:
            PermissionDeniedError: the policy does not allow handling escalations.
            NotFoundError, ConflictError: unknown, or not open.
        """
        self._require_handler(principal)
        await self._ctx.store.get_escalation(escalation_id, scope=principal.scope())
        escalation = await self._explain(
            self._ctx.store.acknowledge_escalation(escalation_id, principal.agent)
        )
        await self._ctx.changes.publish(escalation_uri(escalation_id))
        return self._ctx.sealer.reveal(visible_to(principal, escalation, self._directory))

    async def resolve(self, principal: Principal, escalation_id: str, resolution: str) -> Escalation:
        """Close an escalation with a resolution note.

        Raises:
            PermissionDeniedError: the policy does not allow resolving escalations.
            NotFoundError, ConflictError: unknown, or already resolved.
        """
        self._require_handler(principal)
        await self._ctx.store.get_escalation(escalation_id, scope=principal.scope())
        escalation = await self._explain(
            self._ctx.store.resolve_escalation(escalation_id, principal.agent, resolution)
        )
        await self._ctx.changes.publish(escalation_uri(escalation_id))
        return self._ctx.sealer.reveal(visible_to(principal, escalation, self._directory))

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


def _alert(
    sender: str, room_id: str, reason: str, *, queue: str | None, assignee: str | None, priority: int
) -> NewAlert | None:
    """The inbox alert of a new escalation to its assignee and queue (``None`` when it names neither).

    Built (and so validated) before the escalation is written, so a name that cannot receive alerts is
    refused before anything is stored.
    """
    recipients = [name for name in (assignee, queue) if name]
    if not recipients:
        return None
    excerpt = reason if len(reason) <= ALERT_REASON_CHARS else reason[: ALERT_REASON_CHARS - 1] + "…"
    return NewAlert(
        sender=sender,
        to_agents=recipients,
        message=f"Escalation of room {room_id} (priority {priority}): {excerpt}",
        severity=ALERT_SEVERITY[priority],
        room_id=room_id,
        metadata={"kind": "escalation", "queue": queue, "assignee": assignee},
    )


def visible_to(principal: Principal, escalation: Escalation, directory_namespace: str) -> Escalation:
    """The escalation with its package cut to what ``principal`` may read.

    Events above the caller's clearance, observation/decision memories and facts in namespaces it does
    not read or above its clearance, and open tasks in namespaces it does not read are left out, and the
    customer identity unless the caller reads ``directory_namespace`` (identities are personal data); the
    room stays. The
    customer graph keeps the entities the caller may read (and the relations between them), or is dropped
    when the customer's own entity is hidden.
    """
    scope = principal.scope()
    ceiling = scope.max_sensitivity.level
    package = escalation.handoff

    def readable(memory: Memory) -> bool:
        return scope.can_read(memory.namespace) and memory.sensitivity.level <= ceiling

    cut = package.model_copy(
        update={
            "events": [e for e in package.events if e.sensitivity.level <= ceiling],
            "observations": [m for m in package.observations if readable(m)],
            "decisions": [m for m in package.decisions if readable(m)],
            "task_memories": [m for m in package.task_memories if readable(m)],
            "facts": [
                f for f in package.facts if scope.can_read(f.namespace) and f.sensitivity.level <= ceiling
            ],
            "open_tasks": [t for t in package.open_tasks if scope.can_read(t.namespace)],
            "identity": package.identity if scope.can_read(directory_namespace) else None,
            "customer_graph": _graph_visible_to(package.customer_graph, scope.can_read, ceiling),
        }
    )
    return escalation.model_copy(update={"handoff": cut})


def summarize(escalation: Escalation) -> EscalationSummary:
    """An escalation without its handoff package."""
    return EscalationSummary(
        escalation_id=escalation.escalation_id,
        room_id=escalation.room_id,
        task_id=escalation.task_id,
        reason=escalation.reason,
        queue=escalation.queue,
        assignee=escalation.assignee,
        priority=escalation.priority,
        status=escalation.status,
        created_by=escalation.created_by,
        created_at=escalation.created_at,
        acknowledged_by=escalation.acknowledged_by,
        resolution=escalation.resolution,
        handoff_event_count=len(escalation.handoff.events),
        handoff_open_task_count=len(escalation.handoff.open_tasks),
        handoff_fact_count=len(escalation.handoff.facts),
    )


def _graph_visible_to(
    graph: GraphTraversal | None, can_read: Callable[[str], bool], ceiling: int
) -> GraphTraversal | None:
    if graph is None:
        return None
    nodes = [n for n in graph.nodes if can_read(n.entity.namespace) and n.entity.sensitivity.level <= ceiling]
    kept = {n.entity.entity_id for n in nodes}
    if graph.start_id not in kept:
        return None
    edges = [e for e in graph.edges if e.source_id in kept and e.target_id in kept]
    return graph.model_copy(update={"nodes": nodes, "edges": edges})
