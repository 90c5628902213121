"""Escalations to humans, with the handoff package frozen in the creating transaction."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage.errors import NotFoundError
from storage.handoff import (
    CUSTOMER_ROLE,
    HANDOFF_MEMORY_KINDS,
    assemble_handoff,
    choose_customer,
    customer_candidates,
    listed_namespaces,
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
    new_id,
    utc_now,
)
from storage.models.escalations import check_escalation_transition
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor, encode_cursor, isoformat
from storage.postgres.core import PostgresCore
from storage.postgres.events import fetch_room_row
from storage.postgres.filters import PostgresParams
from storage.postgres.graph import traverse
from storage.postgres.identities import fetch_identity
from storage.postgres.rooms import parse_time
from storage.postgres.rows import ROWS
from storage.scope import Scope

__all__ = ["PostgresEscalations"]


async def build_handoff(conn: asyncpg.Connection, room_id: str, event_limit: int) -> HandoffPackage:
    """Read a room's handoff package (see ``storage.handoff``) on ``conn``'s snapshot.

    Raises:
        NotFoundError: no such room.
    """
    room = ROWS.room(await fetch_room_row(conn, room_id))
    events = await conn.fetch(
        "SELECT * FROM events WHERE room_id = $1 ORDER BY idx DESC LIMIT $2", room_id, max(0, event_limit)
    )
    memories = await conn.fetch(
        "SELECT * FROM memories WHERE room_id = $1 AND kind = ANY($2::text[]) ORDER BY created_at, memory_id",
        room_id,
        list(HANDOFF_MEMORY_KINDS),
    )
    tasks = await conn.fetch(
        "SELECT * FROM tasks WHERE room_id = $1 AND status NOT IN ('done', 'cancelled')"
        " ORDER BY priority DESC, created_at, task_id",
        room_id,
    )
    facts = await conn.fetch(
        "SELECT * FROM facts WHERE namespace IN ("
        " SELECT namespace FROM memories WHERE room_id = $1 UNION SELECT unnest($2::text[]))"
        " AND namespace NOT IN (SELECT namespace FROM branches)"
        ' ORDER BY namespace COLLATE "C", key COLLATE "C" LIMIT $3',
        room_id,
        listed_namespaces(room.metadata),
        HANDOFF_FACT_LIMIT,
    )
    identity = await _customer(conn, room_id)
    return assemble_handoff(
        room=room,
        newest_events=[ROWS.event(r) for r in events],
        memories=[ROWS.memory(r) for r in memories],
        open_tasks=[ROWS.task(r) for r in tasks],
        identity=identity,
        facts=[ROWS.fact(r) for r in facts],
        customer_graph=await customer_graph(conn, identity),
    )


async def customer_graph(conn: asyncpg.Connection, identity: Identity | None) -> GraphTraversal | None:
    """The customer's entity and its direct neighbours (see ``HandoffPackage.customer_graph``), or ``None``."""
    if identity is None:
        return None
    row = await conn.fetchrow(
        "SELECT * FROM entities WHERE properties ->> 'identity_id' = $1 OR name = $1"
        " ORDER BY created_at, entity_id LIMIT 1",
        identity.identity_id,
    )
    if row is None:
        return None
    return await traverse(
        conn,
        ROWS.entity(row),
        max_depth=1,
        relation_types=(),
        direction="both",
        max_nodes=CUSTOMER_GRAPH_MAX_NODES,
        ceiling=2,
    )


async def _customer(conn: asyncpg.Connection, room_id: str) -> Identity | None:
    """The room's customer (the rule of ``storage.handoff``), or ``None``."""
    participants = await conn.fetch(
        "SELECT * FROM participants WHERE room_id = $1 AND kind = 'identity' AND role = $2"
        " ORDER BY joined_at, join_seq",
        room_id,
        CUSTOMER_ROLE,
    )
    newest_sender = await conn.fetchval(
        "SELECT sender_identity_id FROM events WHERE room_id = $1 AND sender_identity_id IS NOT NULL"
        " ORDER BY idx DESC LIMIT 1",
        room_id,
    )
    candidates = customer_candidates([ROWS.participant(r) for r in participants], newest_sender)
    existing: dict[str, Identity] = {}
    for identity_id in candidates:
        try:
            existing[identity_id] = await fetch_identity(conn, identity_id)
        except NotFoundError:
            continue
    return choose_customer(candidates, existing)


def _in_readable_room(scope: Scope | None, p: PostgresParams) -> str:
    """SQL on ``escalations``: its room's namespace is readable in ``scope``."""
    if scope is None:
        return "TRUE"
    readable = p.readable("r.namespace", scope)
    return f"room_id IN (SELECT r.room_id FROM rooms AS r WHERE {readable})"


class PostgresEscalations(PostgresCore):
    """Escalations: create (with frozen handoff package), read, list, acknowledge, resolve."""

    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        """Escalate a room, freezing its handoff package in the same (REPEATABLE READ) transaction.

        Raises:
            NotFoundError: no such room.
        """
        async with self._transaction("repeatable_read") as conn:
            package = await build_handoff(conn, escalation.room_id, event_limit)
            row = await conn.fetchrow(
                "INSERT INTO escalations (escalation_id, room_id, reason, queue, assignee, priority, status,"
                " created_by, created_at, handoff)"
                " VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9) RETURNING *",
                new_id("esc"),
                escalation.room_id,
                escalation.reason,
                escalation.queue,
                escalation.assignee,
                escalation.priority,
                escalation.created_by,
                package.frozen_at,
                package.model_dump(mode="json"),
            )
        return ROWS.escalation(row)

    async def get_escalation(self, escalation_id: str, *, scope: Scope | None = None) -> Escalation:
        """Return an escalation (of a room readable in ``scope``) with its package. Raises: NotFoundError."""
        p = PostgresParams(escalation_id)
        visible = _in_readable_room(scope, p)
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT * FROM escalations WHERE escalation_id = $1 AND {visible}", *p.values
            )
        if row is None:
            raise NotFoundError("escalation", escalation_id)
        return ROWS.escalation(row)

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
        size = clamp_limit(limit)
        p = PostgresParams()
        conds: list[str] = [_in_readable_room(scope, p)]
        if status:
            conds.append(f"status = ANY({p.add([str(s) for s in status])}::text[])")
        if room_id is not None:
            conds.append(f"room_id = {p.add(room_id)}")
        if queue is not None:
            conds.append(f"queue = {p.add(queue)}")
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            conds.append(f"(created_at, escalation_id) < ({p.add(parse_time(at))}, {p.add(str(last_id))})")
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        limit_sql = p.add(size + 1)
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM escalations {where}"
                f" ORDER BY created_at DESC, escalation_id DESC LIMIT {limit_sql}",
                *p.values,
            )
        items = [ROWS.escalation(r) for r in rows[:size]]
        next_cursor = (
            encode_cursor(isoformat(items[-1].created_at), items[-1].escalation_id)
            if len(rows) > size
            else None
        )
        return Page[Escalation](items=items, next_cursor=next_cursor)

    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        """Move an open escalation to ``acknowledged``. Raises: NotFoundError, ConflictError (not open)."""
        return await self._transition(
            escalation_id,
            EscalationStatus.ACKNOWLEDGED,
            "UPDATE escalations SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3"
            " WHERE escalation_id = $1 RETURNING *",
            (by, utc_now()),
        )

    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        """Resolve an open or acknowledged escalation. Raises: NotFoundError, ConflictError (resolved)."""
        return await self._transition(
            escalation_id,
            EscalationStatus.RESOLVED,
            "UPDATE escalations SET status = 'resolved', resolved_by = $2, resolved_at = $3, resolution = $4"
            " WHERE escalation_id = $1 RETURNING *",
            (by, utc_now(), resolution),
        )

    async def _transition(
        self, escalation_id: str, target: EscalationStatus, sql: str, args: tuple[object, ...]
    ) -> Escalation:
        async with self._transaction() as conn:
            current = await conn.fetchrow(
                "SELECT * FROM escalations WHERE escalation_id = $1 FOR UPDATE", escalation_id
            )
            if current is None:
                raise NotFoundError("escalation", escalation_id)
            check_escalation_transition(ROWS.escalation(current), target)
            row = await conn.fetchrow(sql, escalation_id, *args)
        return ROWS.escalation(row)
