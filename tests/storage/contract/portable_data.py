"""A store holding something of every exported area, and a dump of a store for comparisons."""

from __future__ import annotations

from typing import Any

from storage import MemoryStore
from storage.models import (
    EventSource,
    NewAlert,
    NewEntity,
    NewEscalation,
    NewEvent,
    NewMemory,
    NewRelation,
    NewRoom,
    NewSession,
    NewTask,
    Sensitivity,
)
from storage.models.graph import EntityRef
from storage.portability_tables import TABLE_NAMES
from tests.storage.contract.support import axis


async def seed_every_area(store: MemoryStore, *, namespace: str = "shared-support") -> dict[str, str]:
    """Write rooms, participants, bindings, events, identities, memories, facts (with history), tasks,
    an escalation, a snapshot and a branch, entities, relations and alerts; return some of their ids."""
    room = await store.create_room(NewRoom(namespace=namespace, name="case 42", metadata={"tier": 2}))
    rid = room.room_id
    await store.add_participant(rid, "triage", role="lead")
    await store.create_session(
        NewSession(session_id=f"ses-{namespace}", namespace=namespace, metadata={"ticket": 42})
    )
    await store.add_participant(rid, "billing")
    await store.remove_participant(rid, "billing")
    await store.add_channel_binding(rid, "chat-1", "webchat", {"lang": "en"})
    person, _ = await store.resolve_identity("email", "ana@example.com", display_name="Ana")
    await store.link_address(person.identity_id, "phone", "+3312345")
    first = await store.append_event(
        NewEvent(
            room_id=rid,
            content="My invoice is wrong",
            source=EventSource(
                channel_type="webchat", channel_id="chat-1", sender_identity_id=person.identity_id
            ),
            idempotency_key="msg-1",
            metadata={"lang": "en"},
        ),
        axis(0),
    )
    await store.append_event(
        NewEvent(room_id=rid, content="card ends 4242", sensitivity=Sensitivity.CONFIDENTIAL), axis(1)
    )
    await store.record_handoff(rid, to_agent="billing", by_agent="triage", reason="invoice")
    kept = await store.add_memory(
        NewMemory(
            namespace=namespace,
            content="Ana prefers email",
            kind="observation",
            tags=["vip"],
            room_id=rid,
            importance=0.8,
            author="triage",
            metadata={"source": "chat"},
        ),
        axis(2),
    )
    gone = await store.add_memory(NewMemory(namespace=namespace, content="temporary note"), axis(3))
    await store.add_memory(NewMemory(namespace="agent-billing", content="refund policy v2"), None)
    await store.set_fact(namespace, "plan", {"tier": "gold"})
    snapshot = await store.create_snapshot(namespace, "before changes")
    await store.set_fact(namespace, "plan", {"tier": "platinum"}, expected_version=1)
    await store.set_fact(namespace, "region", "eu", sensitivity=Sensitivity.PUBLIC)
    await store.delete_fact(namespace, "region")
    await store.delete_memory(gone.memory_id)
    await store.branch(namespace, snapshot.snapshot_id, f"{namespace}-branch")
    task = await store.create_task(NewTask(title="fix invoice", room_id=rid, created_by="triage"))
    await store.claim_task(task.task_id, "billing")
    escalation = await store.create_escalation(NewEscalation(room_id=rid, reason="angry customer"))
    await store.acknowledge_escalation(escalation.escalation_id, "human-1")
    await store.upsert_entity(
        NewEntity(namespace=namespace, type="person", name="Ana", properties={"vip": True})
    )
    await store.add_relation(
        NewRelation(
            namespace=namespace,
            source=EntityRef(type="person", name="Ana"),
            type="owns",
            target=EntityRef(type="account", name="ACC-1"),
            confidence=0.9,
        )
    )
    alert = await store.send_alert(
        NewAlert(sender="triage", to_agents=["billing", "lead"], message="VIP waiting", room_id=rid)
    )
    await store.ack_alert(alert.alert_id, "billing")
    return {
        "room_id": rid,
        "event_id": first.event.event_id,
        "memory_id": kept.memory_id,
        "task_id": task.task_id,
        "escalation_id": escalation.escalation_id,
        "identity_id": person.identity_id,
    }


async def dump(
    store: MemoryStore, *, namespaces: list[str] | None = None, vectors: bool = True, limit: int = 7
) -> dict[str, list[dict[str, Any]]]:
    """Every exported row of ``store`` by table (paged by ``limit`` to exercise paging)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in TABLE_NAMES:
        rows: list[dict[str, Any]] = []
        after = None
        while True:
            batch = await store.export_rows(
                table, namespaces=namespaces, vectors=vectors, after=after, limit=limit
            )
            rows.extend(batch.rows)
            if batch.after is None:
                break
            after = batch.after
        tables[table] = rows
    return tables


async def copy(source: MemoryStore, target: MemoryStore, **options: Any) -> dict[str, int]:
    """Import every row of ``source`` into ``target``; return rows inserted per table."""
    data = await dump(source, **options)
    return {table: await target.import_rows(table, rows) for table, rows in data.items()}
