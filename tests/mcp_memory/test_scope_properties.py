"""Property (hypothesis): through the service, no search, list, resource-shaped read or count reveals a
memory, room, event or escalation outside the caller's policy, on both backends; and no task, identity or
subscription, and no prompt's material, lets an agent read, be notified about or change what its policy
hides.

Each example draws a random policy (read patterns, clearance) and random data (memories and rooms in
random namespaces, events of random sensitivity, an escalation per room); the data are written
unrestricted, then every read path of the service is checked against a plain-Python oracle.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_memory.auth import AgentPolicy, Principal
from mcp_memory.prompts import _room_material
from mcp_memory.services import Service, open_service
from mcp_memory.watches import Watch
from storage import NotFoundError, PermissionDeniedError, Scope
from storage.models import (
    Event,
    Memory,
    MemoryFilter,
    NewEscalation,
    NewEvent,
    NewMemory,
    NewRoom,
    NewTask,
    SearchRequest,
    Sensitivity,
    TaskRecord,
    TaskUpdate,
)
from tests.mcp_memory.conftest import make_settings

pytestmark = pytest.mark.anyio

NAMESPACES = ["agent-prop", "agent-other", "shared-a", "shared-b", "rooms-billing", "rooms-tech"]
PATTERNS = ["agent-{agent}", "agent-*", "shared-*", "shared-a", "rooms-*", "rooms-billing", "*", "nobody"]

policies = st.builds(
    lambda reads, clearance: AgentPolicy(read_namespaces=reads, write_namespaces=[], clearance=clearance),
    st.lists(st.sampled_from(PATTERNS), min_size=0, max_size=3, unique=True),
    st.sampled_from(list(Sensitivity)),
)
data = st.fixed_dictionaries(
    {
        "memories": st.lists(
            st.tuples(
                st.sampled_from(NAMESPACES), st.sampled_from([Sensitivity.PUBLIC, Sensitivity.INTERNAL])
            ),
            max_size=6,
        ),
        "rooms": st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=3),
        "events": st.lists(
            st.tuples(st.integers(0, 2), st.sampled_from([Sensitivity.PUBLIC, Sensitivity.INTERNAL])),
            max_size=6,
        ),
    }
)


def _words() -> Iterator[str]:
    for letters in itertools.product("bcdfghjklmnpqrtvwz", repeat=3):
        yield "zs" + "".join(letters) + "x"


@pytest.fixture
async def service(
    tmp_path: Path, storage_url_factory: Callable[[], Awaitable[str]]
) -> AsyncIterator[Service]:
    settings = make_settings(tmp_path, storage={"url": await storage_url_factory()})
    async with open_service(settings) as opened:
        yield opened


@pytest.fixture
def words() -> Iterator[str]:
    return _words()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=policies, spec=data)
async def test_the_service_never_reveals_what_the_policy_hides(
    service: Service, words: Iterator[str], policy: AgentPolicy, spec: dict[str, list]
) -> None:
    store = service.store
    word = next(words)
    me = Principal(agent="prop", policy=policy)
    scope: Scope = me.scope()
    ceiling = policy.clearance.level

    memories: list[Memory] = [
        await store.add_memory(NewMemory(namespace=ns, content=f"{word} memory {i}", sensitivity=s))
        for i, (ns, s) in enumerate(spec["memories"])
    ]
    rooms = [await store.create_room(NewRoom(namespace=ns)) for ns in spec["rooms"]]
    events: list[Event] = []
    for i, (r, s) in enumerate(spec["events"]):
        room = rooms[r % len(rooms)]
        events.append(
            (
                await store.append_event(
                    NewEvent(room_id=room.room_id, content=f"{word} event {i}", sensitivity=s)
                )
            ).event
        )
    escalations = [
        await store.create_escalation(NewEscalation(room_id=r.room_id, reason=word)) for r in rooms
    ]

    def memory_visible(m: Memory) -> bool:
        return scope.can_read(m.namespace) and m.sensitivity.level <= ceiling

    readable_rooms = {r.room_id for r in rooms if scope.can_read(r.namespace)}

    def event_visible(e: Event) -> bool:
        return e.room_id in readable_rooms and e.sensitivity.level <= ceiling

    # search (memories and events), by words: exactly the visible items of this example
    found = await service.memories.search(me, SearchRequest(query=word, include_events=True, limit=50))
    expected = {m.memory_id for m in memories if memory_visible(m)} | {
        e.event_id for e in events if event_visible(e)
    }
    assert {r.id for r in found.results} == expected
    # list: only visible memories (of every example so far), and only readable rooms
    listed = await service.memories.list_memories(me, MemoryFilter(), limit=500)
    assert all(scope.can_read(m.namespace) and m.sensitivity.level <= ceiling for m in listed.memories)
    assert {m.memory_id for m in memories if memory_visible(m)} <= {m.memory_id for m in listed.memories}
    room_page = await service.rooms.list_rooms(me, limit=500)
    assert all(scope.can_read(r.namespace) for r in room_page.rooms)
    assert readable_rooms <= {r.room_id for r in room_page.rooms}
    # reads (what the resources call), timelines and counts
    for room in rooms:
        if room.room_id in readable_rooms:
            timeline = await service.events.list_events(me, room.room_id, limit=50)
            assert {e.event_id for e in timeline.events} == {
                e.event_id for e in events if e.room_id == room.room_id and event_visible(e)
            }
            state = await service.rooms.get_conversation_state(me, room.room_id)
            assert state.room_id == room.room_id
        else:
            with pytest.raises(NotFoundError):
                await service.events.list_events(me, room.room_id)
            with pytest.raises(NotFoundError):
                await service.rooms.get_conversation_state(me, room.room_id)
    for memory in memories:
        if memory_visible(memory):
            assert (await service.memories.get_memory(me, memory.memory_id)).content == memory.content
        else:
            with pytest.raises(NotFoundError):
                await service.memories.get_memory(me, memory.memory_id)
    summaries = (await service.escalations.list_escalations(me, limit=500)).escalations
    assert {s.room_id for s in summaries} <= {r.room_id for r in room_page.rooms}
    for escalation in escalations:
        if escalation.room_id in readable_rooms:
            seen = await service.escalations.get_escalation(me, escalation.escalation_id)
            assert all(e.sensitivity.level <= ceiling for e in seen.handoff.events)
            summary = next(s for s in summaries if s.escalation_id == escalation.escalation_id)
            assert summary.handoff_event_count == len(seen.handoff.events)  # counts reveal nothing hidden
        else:
            with pytest.raises(NotFoundError):
                await service.escalations.get_escalation(me, escalation.escalation_id)


write_policies = st.builds(
    lambda reads, writes, clearance: AgentPolicy(
        read_namespaces=reads, write_namespaces=writes, clearance=clearance
    ),
    st.lists(st.sampled_from([*PATTERNS, "shared-directory"]), min_size=0, max_size=3, unique=True),
    st.lists(st.sampled_from([*PATTERNS, "shared-directory"]), min_size=0, max_size=3, unique=True),
    st.sampled_from(list(Sensitivity)),
)
task_data = st.lists(
    st.tuples(st.sampled_from(NAMESPACES), st.booleans()),  # (namespace, in a room of it or named)
    min_size=1,
    max_size=5,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=write_policies, spec=task_data)
async def test_tasks_identities_and_subscriptions_follow_the_policy(
    service: Service, words: Iterator[str], policy: AgentPolicy, spec: list[tuple[str, bool]]
) -> None:
    """Tasks (read, list, claim, update), identities (read, resolve, link) and subscriptions (notified or
    not) against the oracle: a task is visible iff its namespace is readable and changeable iff also
    writable; an identity is readable iff the directory is readable, changeable iff also writable; a
    subscriber hears a change only of what it can read."""
    store = service.store
    word = next(words)
    me = Principal(agent="prop", policy=policy)
    scope: Scope = me.scope()
    tasks: list[TaskRecord] = []
    for i, (namespace, in_room) in enumerate(spec):
        if in_room:
            room = await store.create_room(NewRoom(namespace=namespace))
            new = NewTask(title=f"{word} task {i}", room_id=room.room_id)
        else:
            new = NewTask(title=f"{word} task {i}", namespace=namespace)
        tasks.append(await store.create_task(new))
    assert all(t.namespace == ns for t, (ns, _) in zip(tasks, spec, strict=True))
    # A task of a readable room may live in a namespace the caller does not read: prompts must hide it.
    for room_id in {t.room_id for t in tasks if t.room_id is not None}:
        tasks.append(
            await store.create_task(
                NewTask(title=f"{word} task x{len(tasks)}", room_id=room_id, namespace="agent-other")
            )
        )
    hidden_titles = [t.title for t in tasks if not scope.can_read(t.namespace)]
    for room_id in {t.room_id for t in tasks if t.room_id is not None}:
        room_ns = (await store.get_room(room_id)).namespace
        if scope.can_read(room_ns):
            material = "".join(m.model_dump_json() for m in await _room_material(service, me, room_id))
            assert not any(f'"{title}"' in material for title in hidden_titles)
        else:
            with pytest.raises(NotFoundError):
                await _room_material(service, me, room_id)

    listed: list[TaskRecord] = []
    cursor: str | None = None
    while True:  # every page: earlier examples' tasks are still there
        page = await service.tasks.list_tasks(me, limit=50, cursor=cursor)
        listed.extend(page.tasks)
        if (cursor := page.next_cursor) is None:
            break
    ours = {t.task_id for t in listed if t.title.startswith(word)}
    assert ours == {t.task_id for t in tasks if scope.can_read(t.namespace)}
    assert all(scope.can_read(t.namespace) for t in listed)
    watches = {t.task_id: await Watch.start(service, me, f"memory://tasks/{t.task_id}") for t in tasks}
    for task in tasks:
        if not scope.can_read(task.namespace):
            with pytest.raises(NotFoundError):
                await service.tasks.get_task(me, task.task_id)
            with pytest.raises(NotFoundError):
                await service.tasks.claim_task(me, task.task_id)
            with pytest.raises(NotFoundError):
                await service.tasks.update_task(me, task.task_id, TaskUpdate(title="x"), expected_version=1)
        elif not scope.can_write(task.namespace):
            assert (await service.tasks.get_task(me, task.task_id)).task_id == task.task_id
            with pytest.raises(PermissionDeniedError):
                await service.tasks.claim_task(me, task.task_id)
            with pytest.raises(PermissionDeniedError):
                await service.tasks.update_task(me, task.task_id, TaskUpdate(title="x"), expected_version=1)
        else:
            assert (await service.tasks.claim_task(me, task.task_id)).assignee == "prop"
        # Whatever the caller could do, someone with every right changes the task: only a subscriber that
        # can read it hears of it.
        current = await store.get_task(task.task_id)
        await store.update_task(task.task_id, TaskUpdate(priority=3), expected_version=current.version)
        assert await watches[task.task_id].changed(service) is scope.can_read(task.namespace)
    for task in tasks:
        if not scope.can_write(task.namespace):
            unchanged = await store.get_task(task.task_id)
            assert unchanged.assignee is None
            assert unchanged.title == task.title

    directory = service.settings.identities.directory_namespace
    identity, _ = await store.resolve_identity("email", f"{word}@example.com")
    if scope.can_read(directory):
        assert (
            await service.identities.get_identity(me, identity.identity_id)
        ).identity_id == identity.identity_id
    else:
        with pytest.raises(PermissionDeniedError):
            await service.identities.get_identity(me, identity.identity_id)
    if scope.can_read(directory) and scope.can_write(directory):
        await service.identities.link_address(
            me, identity.identity_id, "sms", f"+1{int.from_bytes(word.encode()) % 10**10:010d}"
        )
    else:
        with pytest.raises(PermissionDeniedError):
            await service.identities.link_address(me, identity.identity_id, "web", f"{word}-web")
        assert [a.address for a in (await store.get_identity(identity.identity_id)).addresses] == [
            f"{word}@example.com"
        ]
