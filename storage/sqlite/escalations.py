"""Escalations to humans, with the handoff package frozen in the same transaction that creates them."""

from __future__ import annotations

import json
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
    Sensitivity,
    new_id,
    utc_now,
)
from storage.models.escalations import check_escalation_transition
from storage.queries.escalations import EscalationQueries
from storage.queries.graph import entity_plan, walk_plan
from storage.sqlite.core import SQLITE, SQLiteCore, run_sqlite_plan
from storage.sqlite.events import room_row
from storage.sqlite.identities import get_identity
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, ts
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
    start = run_sqlite_plan(conn, entity_plan(SQLITE, row["entity_id"], None))
    walk = walk_plan(
        SQLITE,
        start,
        max_depth=1,
        relation_types=(),
        direction="both",
        max_nodes=CUSTOMER_GRAPH_MAX_NODES,
        ceiling=Sensitivity.CONFIDENTIAL.level,
    )
    return run_sqlite_plan(conn, walk)


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


def _escalation_row(conn: apsw.Connection, escalation_id: str) -> dict[str, Any]:
    row = fetch_one(conn, "SELECT * FROM escalations WHERE escalation_id = ?", (escalation_id,))
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


class SQLiteEscalations(EscalationQueries, SQLiteCore):
    """``EscalationStore``'s writes on SQLite: the handoff package is frozen in the creating write
    transaction (the reads are ``EscalationQueries``)."""

    async def create_escalation(self, escalation: NewEscalation, *, event_limit: int = 50) -> Escalation:
        return await self._db.write(create_escalation, escalation, event_limit)

    async def acknowledge_escalation(self, escalation_id: str, by: str) -> Escalation:
        return await self._db.write(acknowledge_escalation, escalation_id, by)

    async def resolve_escalation(self, escalation_id: str, by: str, resolution: str) -> Escalation:
        return await self._db.write(resolve_escalation, escalation_id, by, resolution)
