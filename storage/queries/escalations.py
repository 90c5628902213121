"""``EscalationQueries``: reading and listing escalations, and the plan reading a handoff package, written
once for both backends."""

from __future__ import annotations

from collections.abc import Sequence

from storage.contracts.escalations import EscalationStore
from storage.errors import NotFoundError
from storage.filters import TRUE, Params
from storage.handoff import (
    CUSTOMER_ROLE,
    HANDOFF_MEMORY_KINDS,
    assemble_handoff,
    check_task_room,
    choose_customer,
    customer_candidates,
    listed_namespaces,
    task_memories_sql,
)
from storage.models import (
    CUSTOMER_GRAPH_MAX_NODES,
    HANDOFF_FACT_LIMIT,
    Escalation,
    EscalationStatus,
    GraphTraversal,
    HandoffPackage,
    Identity,
    NewEscalation,
    Page,
    Sensitivity,
    new_id,
)
from storage.paging import DEFAULT_PAGE_SIZE
from storage.queries.graph import walk_plan
from storage.queries.identities import identity_plan
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect, Reader
from storage.queries.tasks import TASK_ORDER
from storage.scope import Scope

__all__ = ["EscalationQueries", "handoff_plan"]


def _create_plan(d: Dialect, escalation: NewEscalation, event_limit: int) -> Plan[Escalation]:
    """Insert an open escalation with its handoff package, read in the same transaction (``handoff_plan``)."""
    package = yield from handoff_plan(d, escalation.room_id, event_limit, escalation.task_id)
    p = d.params()
    values = [
        new_id("esc"),
        escalation.room_id,
        escalation.reason,
        escalation.queue,
        escalation.assignee,
        escalation.priority,
        escalation.created_by,
        p.time_value(package.frozen_at),
        p.json_value(package.model_dump(mode="json")),
    ]
    marks = ", ".join(p.add(v) for v in values)
    rows = yield Query(
        "INSERT INTO escalations (escalation_id, room_id, reason, queue, assignee, priority, created_by,"
        f" created_at, handoff, status) VALUES ({marks}, 'open') RETURNING *",
        p.values,
    )
    return d.rows.escalation(rows[0])


def handoff_plan(
    d: Dialect, room_id: str, event_limit: int, task_id: str | None = None
) -> Plan[HandoffPackage]:
    """Read a room's handoff package (``storage.handoff.assemble_handoff``), with ``task_id``'s task and the
    memories recorded for it, run in the transaction that creates the escalation so the package is one
    snapshot.

    Raises:
        NotFoundError: no such room, or no such task.
        InvalidInputError: the task belongs to another room (``storage.handoff.check_task_room``).
    """
    rows = yield d.query("SELECT * FROM rooms WHERE room_id = {}", room_id)
    if not rows:
        raise NotFoundError("room", room_id)
    room = d.rows.room(rows[0])
    events = yield d.query(
        "SELECT * FROM events WHERE room_id = {} ORDER BY idx DESC LIMIT {}", room_id, max(0, event_limit)
    )
    p = d.params()
    memories = yield Query(
        f"SELECT * FROM memories WHERE room_id = {p.add(room_id)}"
        f" AND {p.equals_any('kind', list(HANDOFF_MEMORY_KINDS))} ORDER BY created_at, memory_id",
        p.values,
    )
    open_tasks = "SELECT * FROM tasks WHERE room_id = {} AND status NOT IN ('done', 'cancelled') ORDER BY "
    tasks = yield d.query(open_tasks + TASK_ORDER, room_id)
    p = d.params()
    listed = listed_namespaces(room.metadata)
    namespaces = f"namespace IN (SELECT namespace FROM memories WHERE room_id = {p.add(room_id)})"
    if listed:
        namespaces = f"({namespaces} OR {p.equals_any('namespace', listed)})"
    facts = yield Query(
        f"SELECT * FROM facts WHERE {namespaces} AND namespace NOT IN (SELECT namespace FROM branches)"
        f" ORDER BY {p.binary_order('namespace')}, {p.binary_order('key')} LIMIT {p.add(HANDOFF_FACT_LIMIT)}",
        p.values,
    )
    task, task_memories = None, []
    if task_id is not None:
        found = yield d.query("SELECT * FROM tasks WHERE task_id = {}", task_id)
        if not found:
            raise NotFoundError("task", task_id)
        task = d.rows.task(found[0])
        check_task_room(task, room_id)
        p = d.params()
        task_memories = [d.rows.memory(r) for r in (yield Query(task_memories_sql(p, task_id), p.values))]
    identity = yield from _customer_plan(d, room_id)
    customer_graph = yield from _customer_graph_plan(d, identity)
    return assemble_handoff(
        room=room,
        newest_events=[d.rows.event(r) for r in events],
        memories=[d.rows.memory(r) for r in memories],
        open_tasks=[d.rows.task(r) for r in tasks],
        identity=identity,
        facts=[d.rows.fact(r) for r in facts],
        customer_graph=customer_graph,
        task=task,
        task_memories=task_memories,
    )


def _customer_plan(d: Dialect, room_id: str) -> Plan[Identity | None]:
    """The room's customer (the rule of ``storage.handoff``), or ``None``."""
    participants = yield d.query(
        "SELECT * FROM participants WHERE room_id = {} AND kind = 'identity' AND role = {}"
        " ORDER BY joined_at, join_seq",
        room_id,
        CUSTOMER_ROLE,
    )
    newest = yield d.query(
        "SELECT sender_identity_id FROM events WHERE room_id = {} AND sender_identity_id IS NOT NULL"
        " ORDER BY idx DESC LIMIT 1",
        room_id,
    )
    candidates = customer_candidates(
        [d.rows.participant(r) for r in participants], newest[0]["sender_identity_id"] if newest else None
    )
    existing: dict[str, Identity] = {}
    for identity_id in candidates:
        identity = yield from identity_plan(d, identity_id)
        if identity is not None:
            existing[identity_id] = identity
    return choose_customer(candidates, existing)


def _customer_graph_plan(d: Dialect, identity: Identity | None) -> Plan[GraphTraversal | None]:
    """The customer's entity and its direct neighbours (``HandoffPackage.customer_graph``), or ``None``."""
    if identity is None:
        return None
    p = d.params()
    rows = yield Query(
        f"SELECT * FROM entities WHERE {p.json_text('properties', 'identity_id')} = {p.add(identity.identity_id)}"
        f" OR name = {p.add(identity.identity_id)} ORDER BY created_at, entity_id LIMIT 1",
        p.values,
    )
    if not rows:
        return None
    return (
        yield from walk_plan(
            d,
            d.rows.entity(rows[0]),
            max_depth=1,
            relation_types=(),
            direction="both",
            max_nodes=CUSTOMER_GRAPH_MAX_NODES,
            ceiling=Sensitivity.CONFIDENTIAL.level,
        )
    )


def _in_readable_room(p: Params, scope: Scope | None) -> str:
    """SQL on ``escalations``: its room's namespace is readable in ``scope`` (``TRUE`` without a scope)."""
    if scope is None:
        return TRUE
    return f"room_id IN (SELECT r.room_id FROM rooms AS r WHERE {p.readable('r.namespace', scope)})"


class EscalationQueries(Reader, EscalationStore):
    """``EscalationStore``: creating one (with its handoff package), reading, listing (newest first); the
    status transitions stay in the backends."""

    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        return await self._write(_create_plan(self.dialect, escalation, event_limit))

    async def get_escalation(self, escalation_id: str, *, scope: Scope | None = None) -> Escalation:
        p = self.PARAMS()
        p.require(f"escalation_id = {p.add(escalation_id)}", _in_readable_room(p, scope))
        row = await self._fetch_one(f"SELECT * FROM escalations WHERE {p.sql()}", p.values)
        if row is None:
            raise NotFoundError("escalation", escalation_id)
        return self.ROWS.escalation(row)

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
        p = self.PARAMS()
        p.require(_in_readable_room(p, scope))
        if status:
            p.require(p.equals_any("status", [EscalationStatus(s).value for s in status]))
        if room_id is not None:
            p.require(f"room_id = {p.add(room_id)}")
        if queue is not None:
            p.require(f"queue = {p.add(queue)}")
        return await self._newest_first(
            "escalations", "escalation_id", p, cursor, limit, self.ROWS.escalation
        )
