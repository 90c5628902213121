"""Escalations: the frozen handoff package and the open -> acknowledged -> resolved life cycle."""

from __future__ import annotations

import pytest

from storage import ConflictError, InvalidInputError, MemoryStore, NotFoundError
from storage.models import (
    EscalationStatus,
    EventSource,
    NewEscalation,
    NewEvent,
    NewMemory,
    NewRoom,
    NewTask,
    TaskStatus,
    TaskUpdate,
)
from tests.storage.contract.support import collect_pages, is_utc

pytestmark = pytest.mark.anyio


async def _busy_room(store: MemoryStore) -> dict[str, object]:
    """A room with a customer, ten events, memories of several kinds and tasks in every state."""
    room = await store.create_room(NewRoom(name="case 9"))
    customer, _ = await store.resolve_identity("sms", "+15551234", display_name="Ada")
    stranger, _ = await store.resolve_identity("sms", "+15559999")
    await store.add_participant(room.room_id, "triage")
    await store.add_participant(room.room_id, customer.identity_id, kind="identity", role="customer")
    for i in range(1, 11):
        sender = stranger if i == 10 else customer
        await store.append_event(
            NewEvent(
                room_id=room.room_id,
                content=f"message {i}",
                source=EventSource(channel_type="sms", sender_identity_id=sender.identity_id),
            )
        )
    observation = await store.add_memory(
        NewMemory(
            namespace="shared-cases", content="customer is upset", kind="observation", room_id=room.room_id
        )
    )
    decision = await store.add_memory(
        NewMemory(namespace="shared-cases", content="offer a refund", kind="decision", room_id=room.room_id)
    )
    await store.add_memory(
        NewMemory(namespace="shared-cases", content="a note", kind="note", room_id=room.room_id)
    )
    await store.add_memory(
        NewMemory(namespace="shared-cases", content="elsewhere", kind="observation", room_id="x")
    )
    open_task = await store.create_task(NewTask(title="open", room_id=room.room_id))
    claimed = await store.create_task(NewTask(title="claimed", room_id=room.room_id, assignee="billing"))
    done = await store.create_task(NewTask(title="done", room_id=room.room_id))
    await store.update_task(done.task_id, TaskUpdate(status=TaskStatus.DONE), expected_version=1)
    cancelled = await store.create_task(NewTask(title="cancelled", room_id=room.room_id))
    await store.update_task(cancelled.task_id, TaskUpdate(status=TaskStatus.CANCELLED), expected_version=1)
    await store.create_room(NewRoom(room_id="room_other"))
    await store.create_task(NewTask(title="other room", room_id="room_other"))
    return {
        "room_id": room.room_id,
        "customer": customer,
        "stranger": stranger,
        "observation": observation,
        "decision": decision,
        "open_tasks": {open_task.task_id, claimed.task_id},
    }


async def test_create_escalation_freezes_the_handoff_package(store: MemoryStore) -> None:
    setup = await _busy_room(store)
    room_id = str(setup["room_id"])

    escalation = await store.create_escalation(
        NewEscalation(room_id=room_id, reason="wants a manager", queue="tier2", created_by="triage"),
        event_limit=4,
    )
    package = escalation.handoff

    assert escalation.escalation_id.startswith("esc_")
    assert escalation.status is EscalationStatus.OPEN
    assert escalation.reason == "wants a manager"
    assert escalation.queue == "tier2"
    assert escalation.priority == 2
    assert escalation.created_by == "triage"
    assert is_utc(escalation.created_at)
    assert package.room == await store.get_room(room_id)
    assert [e.index for e in package.events] == [7, 8, 9, 10]
    assert package.observations == [setup["observation"]]
    assert package.decisions == [setup["decision"]]
    assert {t.task_id for t in package.open_tasks} == setup["open_tasks"]
    assert package.identity == setup["customer"]
    assert is_utc(package.frozen_at)
    assert await store.get_escalation(escalation.escalation_id) == escalation


async def test_handoff_identity_falls_back_to_the_newest_events_sender(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    first, _ = await store.resolve_identity("email", "first@example.com")
    newest, _ = await store.resolve_identity("email", "newest@example.com")
    for sender in [first, newest]:
        await store.append_event(
            NewEvent(
                room_id=room.room_id, content="hi", source=EventSource(sender_identity_id=sender.identity_id)
            )
        )
    await store.append_event(
        NewEvent(room_id=room.room_id, content="agent reply", source=EventSource(agent="a"))
    )

    escalation = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="r"))

    assert escalation.handoff.identity == newest


async def test_handoff_customer_of_a_room_with_two_customers_is_the_present_one_who_joined_last(
    store: MemoryStore,
) -> None:
    room = await store.create_room(NewRoom())
    first, _ = await store.resolve_identity("sms", "+15550001", display_name="First")
    second, _ = await store.resolve_identity("sms", "+15550002", display_name="Second")
    await store.add_participant(room.room_id, first.identity_id, kind="identity", role="customer")
    await store.add_participant(room.room_id, second.identity_id, kind="identity", role="customer")
    # A customer participant outranks the newest event's sender.
    await store.append_event(
        NewEvent(room_id=room.room_id, content="hi", source=EventSource(sender_identity_id=first.identity_id))
    )

    async def customer() -> object:
        escalation = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="r"))
        return escalation.handoff.identity

    assert await customer() == second
    await store.remove_participant(room.room_id, second.identity_id)
    assert await customer() == first
    await store.remove_participant(room.room_id, first.identity_id)
    assert await customer() == second  # both left: the most recent join first
    await store.add_participant(room.room_id, first.identity_id, kind="identity", role="customer")
    assert await customer() == first  # a re-join makes a customer present again


async def test_handoff_customer_skips_customers_whose_identity_does_not_exist(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    real, _ = await store.resolve_identity("email", "real@example.com")
    sender, _ = await store.resolve_identity("email", "sender@example.com")
    await store.add_participant(room.room_id, real.identity_id, kind="identity", role="customer")
    await store.add_participant(room.room_id, "idn_never_created", kind="identity", role="customer")
    await store.append_event(
        NewEvent(
            room_id=room.room_id, content="hi", source=EventSource(sender_identity_id=sender.identity_id)
        )
    )

    first = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="r"))
    other = await store.create_room(NewRoom())
    await store.add_participant(other.room_id, "idn_never_created", kind="identity", role="customer")
    await store.append_event(
        NewEvent(
            room_id=other.room_id, content="hi", source=EventSource(sender_identity_id=sender.identity_id)
        )
    )
    second = await store.create_escalation(NewEscalation(room_id=other.room_id, reason="r"))

    assert first.handoff.identity == real
    assert second.handoff.identity == sender  # no customer exists: the newest event's sender


async def test_handoff_package_of_an_empty_room_is_empty(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())

    package = (await store.create_escalation(NewEscalation(room_id=room.room_id, reason="r"))).handoff

    assert package.events == []
    assert package.observations == []
    assert package.decisions == []
    assert package.open_tasks == []
    assert package.identity is None


async def test_handoff_package_does_not_change_after_the_escalation(store: MemoryStore) -> None:
    setup = await _busy_room(store)
    room_id = str(setup["room_id"])
    escalation = await store.create_escalation(NewEscalation(room_id=room_id, reason="r"))

    await store.append_event(NewEvent(room_id=room_id, content="later"))
    await store.add_memory(
        NewMemory(namespace="shared-cases", content="late", kind="decision", room_id=room_id)
    )
    await store.create_task(NewTask(title="late task", room_id=room_id))
    await store.update_room_metadata(room_id, {"changed": True})
    await store.remove_participant(room_id, setup["customer"].identity_id)  # type: ignore[attr-defined]

    assert (await store.get_escalation(escalation.escalation_id)).handoff == escalation.handoff


async def test_create_escalation_of_an_unknown_room_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.create_escalation(NewEscalation(room_id="room_missing", reason="r"))
    with pytest.raises(NotFoundError):
        await store.get_escalation("esc_missing")


async def test_escalation_moves_from_open_to_acknowledged_to_resolved(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    escalation = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="r"))

    acknowledged = await store.acknowledge_escalation(escalation.escalation_id, by="human-1")
    resolved = await store.resolve_escalation(escalation.escalation_id, by="human-2", resolution="refunded")

    assert acknowledged.status is EscalationStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == "human-1"
    assert acknowledged.acknowledged_at is not None
    assert resolved.status is EscalationStatus.RESOLVED
    assert resolved.resolved_by == "human-2"
    assert resolved.resolution == "refunded"
    assert resolved.resolved_at is not None
    assert resolved.acknowledged_by == "human-1"
    assert resolved.handoff == escalation.handoff
    assert await store.get_escalation(escalation.escalation_id) == resolved


async def test_open_escalation_can_be_resolved_directly(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    escalation = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="r"))

    resolved = await store.resolve_escalation(escalation.escalation_id, by="human", resolution="done")

    assert resolved.status is EscalationStatus.RESOLVED
    assert resolved.acknowledged_at is None


async def test_escalation_transitions_out_of_order_are_conflicts(store: MemoryStore) -> None:
    room = await store.create_room(NewRoom())
    escalation = await store.create_escalation(NewEscalation(room_id=room.room_id, reason="r"))
    acknowledged = await store.acknowledge_escalation(escalation.escalation_id, by="human-1")

    with pytest.raises(ConflictError) as refused:
        await store.acknowledge_escalation(escalation.escalation_id, by="human-2")
    assert refused.value.current == acknowledged  # the conflict carries the escalation as it is
    assert await store.get_escalation(escalation.escalation_id) == acknowledged

    resolved = await store.resolve_escalation(escalation.escalation_id, by="human-1", resolution="ok")
    with pytest.raises(ConflictError):
        await store.resolve_escalation(escalation.escalation_id, by="human-2", resolution="again")
    with pytest.raises(ConflictError):
        await store.acknowledge_escalation(escalation.escalation_id, by="human-2")
    assert await store.get_escalation(escalation.escalation_id) == resolved


async def test_escalation_transitions_of_an_unknown_id_are_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.acknowledge_escalation("esc_missing", by="h")
    with pytest.raises(NotFoundError):
        await store.resolve_escalation("esc_missing", by="h", resolution="r")


async def test_list_escalations_filters_and_pages_newest_first(store: MemoryStore) -> None:
    first = await store.create_room(NewRoom())
    second = await store.create_room(NewRoom())
    made = [
        await store.create_escalation(NewEscalation(room_id=room_id, reason=f"r{i}", queue=queue))
        for i, (room_id, queue) in enumerate(
            [
                (first.room_id, "tier2"),
                (second.room_id, "tier2"),
                (first.room_id, "billing"),
                (first.room_id, None),
            ]
        )
    ]
    await store.acknowledge_escalation(made[0].escalation_id, by="h")
    await store.resolve_escalation(made[1].escalation_id, by="h", resolution="x")
    expected = sorted(made, key=lambda e: (e.created_at, e.escalation_id), reverse=True)

    everything = await collect_pages(lambda c: store.list_escalations(limit=3, cursor=c), limit=3)

    async def reasons(**kwargs: object) -> set[str]:
        return {e.reason for e in (await store.list_escalations(**kwargs)).items}  # type: ignore[arg-type]

    assert [e.escalation_id for e in everything] == [e.escalation_id for e in expected]
    assert await reasons(status=[EscalationStatus.OPEN]) == {"r2", "r3"}
    assert await reasons(status=[EscalationStatus.ACKNOWLEDGED, EscalationStatus.RESOLVED]) == {"r0", "r1"}
    assert await reasons(room_id=first.room_id) == {"r0", "r2", "r3"}
    assert await reasons(queue="tier2") == {"r0", "r1"}
    assert await reasons(queue="tier2", status=[EscalationStatus.OPEN]) == set()


async def test_list_escalations_refuses_a_cursor_it_did_not_make(store: MemoryStore) -> None:
    with pytest.raises(InvalidInputError):
        await store.list_escalations(cursor="!")


async def test_an_escalation_from_a_task_freezes_the_task_and_what_was_recorded_for_it(
    store: MemoryStore,
) -> None:
    room = await store.create_room(NewRoom(name="case"))
    other = await store.create_room(NewRoom(name="other"))
    task = await store.create_task(NewTask(title="refund 900 EUR", room_id=room.room_id))
    first = await store.add_memory(
        NewMemory(namespace="shared-ops", content="card was charged twice", task_id=task.task_id)
    )
    second = await store.add_memory(
        NewMemory(namespace="shared-ops", content="bank confirms", task_id=task.task_id)
    )
    await store.add_memory(NewMemory(namespace="shared-ops", content="another task", task_id="task_other"))
    escalation = await store.create_escalation(
        NewEscalation(room_id=room.room_id, task_id=task.task_id, reason="above my limit")
    )
    assert escalation.task_id == task.task_id
    assert escalation.handoff.task == task
    assert [m.memory_id for m in escalation.handoff.task_memories] == [first.memory_id, second.memory_id]
    assert (await store.get_escalation(escalation.escalation_id)).handoff.task == task
    with pytest.raises(InvalidInputError, match="belongs to room"):
        await store.create_escalation(NewEscalation(room_id=other.room_id, task_id=task.task_id, reason="x"))
    with pytest.raises(NotFoundError):
        await store.create_escalation(NewEscalation(room_id=room.room_id, task_id="task_missing", reason="x"))
