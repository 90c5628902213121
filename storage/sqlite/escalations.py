"""Escalations to humans, with the handoff package frozen in the same transaction that creates them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

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
from storage.paging import DEFAULT_PAGE_SIZE, clamp_limit, decode_cursor
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.events import room_row
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.graph import traverse_graph
from storage.sqlite.identities import get_identity
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, make_page, ts
from storage.sqlite.tasks import open_tasks_of_room

__all__ = ["SQLiteEscalations"]


def _customer(conn: apsw.Connection, room_id: str) -> Identity | None:
    """The room's customer (the rule of ``storage.handoff``), or ``None``."""
    participants = fetch_all(
        conn,
        "SELECT * FROM participants WHERE room_id = ? AND kind = 'identity' AND role = ?"
        " ORDER BY joined_at, join_seq",
        (room_id, CUSTOMER_ROLE),
    )
    newest = fetch_one(
        conn,
        "SELECT sender_identity_id FROM events WHERE room_id = ? AND sender_identity_id IS NOT NULL"
        " ORDER BY idx DESC LIMIT 1",
        (room_id,),
    )
    candidates = customer_candidates(
        [ROWS.participant(r) for r in participants], None if newest is None else newest["sender_identity_id"]
    )
    existing: dict[str, Identity] = {}
    for identity_id in candidates:
        try:
            existing[identity_id] = get_identity(conn, identity_id)
        except NotFoundError:
            continue
    return choose_customer(candidates, existing)


def customer_graph(conn: apsw.Connection, identity: Identity | None) -> GraphTraversal | None:
    """The customer's entity and its direct neighbours (see ``HandoffPackage.customer_graph``), or ``None``."""
    if identity is None:
        return None
    row = fetch_one(
        conn,
        "SELECT entity_id FROM entities WHERE json_extract(properties, '$.identity_id') = ? OR name = ?"
        " ORDER BY created_at, entity_id LIMIT 1",
        (identity.identity_id, identity.identity_id),
    )
    if row is None:
        return None
    return traverse_graph(conn, row["entity_id"], 1, (), "both", CUSTOMER_GRAPH_MAX_NODES, None)


def _handoff(conn: apsw.Connection, room_id: str, event_limit: int) -> HandoffPackage:
    room = ROWS.room(room_row(conn, room_id))
    events = fetch_all(
        conn,
        "SELECT * FROM events WHERE room_id = ? ORDER BY idx DESC LIMIT ?",
        (room_id, max(0, event_limit)),
    )
    kinds = ", ".join("?" * len(HANDOFF_MEMORY_KINDS))
    memories = fetch_all(
        conn,
        f"SELECT * FROM memories WHERE room_id = ? AND kind IN ({kinds}) ORDER BY created_at, memory_id",
        (room_id, *HANDOFF_MEMORY_KINDS),
    )
    facts = fetch_all(
        conn,
        "SELECT * FROM facts WHERE namespace IN ("
        " SELECT namespace FROM memories WHERE room_id = ?"
        " UNION SELECT value FROM json_each(?)) AND namespace NOT IN (SELECT namespace FROM branches)"
        " ORDER BY namespace, key LIMIT ?",
        (room_id, json.dumps(listed_namespaces(room.metadata)), HANDOFF_FACT_LIMIT),
    )
    identity = _customer(conn, room_id)
    return assemble_handoff(
        room=room,
        newest_events=[ROWS.event(r) for r in events],
        memories=[ROWS.memory(r) for r in memories],
        open_tasks=open_tasks_of_room(conn, room_id),
        identity=identity,
        facts=[ROWS.fact(r) for r in facts],
        customer_graph=customer_graph(conn, identity),
    )


def _in_readable_room(scope: Scope | None) -> tuple[str, list[Any]]:
    """The escalation's room is readable in ``scope`` (SQL on ``escalations.room_id``)."""
    if scope is None:
        return "1", []
    readable, params = SQLiteParams.readable_clause("r.namespace", scope)
    return f"room_id IN (SELECT r.room_id FROM rooms AS r WHERE {readable})", params


def _escalation_row(conn: apsw.Connection, escalation_id: str, scope: Scope | None = None) -> dict[str, Any]:
    visible, params = _in_readable_room(scope)
    row = fetch_one(
        conn, f"SELECT * FROM escalations WHERE escalation_id = ? AND {visible}", (escalation_id, *params)
    )
    if row is None:
        raise NotFoundError("escalation", escalation_id)
    return row


def create_escalation(conn: apsw.Connection, escalation: NewEscalation, event_limit: int) -> Escalation:
    """Insert an escalation with its frozen handoff package. Raises: NotFoundError (room)."""
    package = _handoff(conn, escalation.room_id, event_limit)
    escalation_id = new_id("esc")
    conn.execute(
        "INSERT INTO escalations (escalation_id, room_id, reason, queue, assignee, priority, status,"
        " created_by, created_at, handoff) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (
            escalation_id,
            escalation.room_id,
            escalation.reason,
            escalation.queue,
            escalation.assignee,
            escalation.priority,
            escalation.created_by,
            ts(package.frozen_at),
            package.model_dump_json(),
        ),
    )
    return ROWS.escalation(_escalation_row(conn, escalation_id))


def get_escalation(conn: apsw.Connection, escalation_id: str, scope: Scope | None = None) -> Escalation:
    """Return an escalation of a room readable in ``scope``. Raises: NotFoundError."""
    return ROWS.escalation(_escalation_row(conn, escalation_id, scope))


def list_escalations(
    conn: apsw.Connection,
    status: Sequence[EscalationStatus] | None,
    room_id: str | None,
    queue: str | None,
    limit: int,
    cursor: str | None,
    scope: Scope | None = None,
) -> Page[Escalation]:
    """Escalations of rooms readable in ``scope``, newest first by ``(created_at, escalation_id)``.

    Raises: InvalidInputError (cursor).
    """
    visible, visible_params = _in_readable_room(scope)
    where: list[str] = [visible]
    params: list[Any] = list(visible_params)
    if status:
        where.append(f"status IN ({', '.join('?' * len(status))})")
        params.extend(EscalationStatus(s).value for s in status)
    if room_id is not None:
        where.append("room_id = ?")
        params.append(room_id)
    if queue is not None:
        where.append("queue = ?")
        params.append(queue)
    if cursor is not None:
        where.append("(created_at, escalation_id) < (?, ?)")
        params.extend(decode_cursor(cursor, 2))
    rows = fetch_all(
        conn,
        f"SELECT * FROM escalations WHERE {' AND '.join(where)}"
        " ORDER BY created_at DESC, escalation_id DESC LIMIT ?",
        (*params, limit + 1),
    )
    return make_page(rows, limit, ROWS.escalation, "created_at", "escalation_id")


def acknowledge_escalation(conn: apsw.Connection, escalation_id: str, by: str) -> Escalation:
    """Move an open escalation to ``acknowledged``. Raises: NotFoundError, ConflictError (not open)."""
    check_escalation_transition(
        ROWS.escalation(_escalation_row(conn, escalation_id)), EscalationStatus.ACKNOWLEDGED
    )
    conn.execute(
        "UPDATE escalations SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at = ?"
        " WHERE escalation_id = ?",
        (by, ts(utc_now()), escalation_id),
    )
    return ROWS.escalation(_escalation_row(conn, escalation_id))


def resolve_escalation(conn: apsw.Connection, escalation_id: str, by: str, resolution: str) -> Escalation:
    """Resolve an open or acknowledged escalation. Raises: NotFoundError, ConflictError (resolved)."""
    check_escalation_transition(
        ROWS.escalation(_escalation_row(conn, escalation_id)), EscalationStatus.RESOLVED
    )
    conn.execute(
        "UPDATE escalations SET status = 'resolved', resolved_by = ?, resolved_at = ?, resolution = ?"
        " WHERE escalation_id = ?",
        (by, ts(utc_now()), resolution, escalation_id),
    )
    return ROWS.escalation(_escalation_row(conn, escalation_id))


class SQLiteEscalations(SQLiteCore):
    """``EscalationStore`` on SQLite: the handoff package is frozen in the creating write transaction."""

    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        return await self._db.write(create_escalation, escalation, event_limit)

    async def get_escalation(self, escalation_id: str, *, scope: Scope | None = None) -> Escalation:
        return await self._db.read(get_escalation, escalation_id, scope)

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
        return await self._db.read(
            list_escalations, status, room_id, queue, clamp_limit(limit), cursor, scope
        )

    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        return await self._db.write(acknowledge_escalation, escalation_id, by)

    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        return await self._db.write(resolve_escalation, escalation_id, by, resolution)
