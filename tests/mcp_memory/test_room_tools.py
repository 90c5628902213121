"""Room, participant and channel-binding tools through real client sessions, on both backends."""

from __future__ import annotations

import pytest

from mcp_memory.config import AgentConfig, Settings
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def test_update_room_sets_the_phase_at_a_version_and_closes_the_room(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room = await call(client, "create_room", name="Order 1182")
        room_id = room["room_id"]
        state = await call(client, "update_room", room_id=room_id, phase="investigating", expected_version=1)
        assert (state["state"]["phase"], state["state"]["version"]) == ("investigating", 2)
        stale = await call_error(client, "update_room", room_id=room_id, phase="done", expected_version=1)
        assert "at version 2, you sent 1" in stale
        closed = await call(client, "update_room", room_id=room_id, close=True)
        assert closed["status"] == "closed"
        refused = await call_error(client, "store_event", room_id=room_id, content="still there?")
        assert "closed" in refused


async def test_a_human_joins_changes_role_and_leaves(connect: Connect, backend_settings: Settings) -> None:
    async with connect(backend_settings, "triage") as client:
        room_id = (await call(client, "create_room"))["room_id"]
        joined = await call(
            client,
            "manage_participant",
            room_id=room_id,
            action="add",
            participant_id="ana",
            kind="human",
            role="supervisor",
        )
        ana = [p for p in joined["participants"] if p["participant_id"] == "ana"]
        assert [(p["kind"], p["role"], p["left_at"]) for p in ana] == [("human", "supervisor", None)]
        changed = await call(
            client,
            "manage_participant",
            room_id=room_id,
            action="set_role",
            participant_id="ana",
            role="owner",
        )
        assert [p["role"] for p in changed["participants"] if p["participant_id"] == "ana"] == ["owner"]
        left = await call(client, "manage_participant", room_id=room_id, action="leave", participant_id="ana")
        assert [p["left_at"] is not None for p in left["participants"] if p["participant_id"] == "ana"] == [
            True
        ]
        state = await call(client, "get_conversation_state", room_id=room_id)
        assert "ana" not in {p["participant_id"] for p in state["participants"]}
        missing = await call_error(
            client, "manage_participant", room_id=room_id, action="leave", participant_id="ana"
        )
        assert "'ana' was not found" in missing


async def test_channel_bindings_are_added_listed_updated_and_removed(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room_id = (await call(client, "create_room"))["room_id"]
        added = await call(
            client,
            "manage_channel_binding",
            room_id=room_id,
            action="add",
            channel_id="+15550100",
            channel_type="SMS",
            config={"reply_from": "+15550999"},
        )
        assert [(b["channel_type"], b["config"]) for b in added["bindings"]] == [
            ("sms", {"reply_from": "+15550999"})
        ]
        twice = await call_error(
            client,
            "manage_channel_binding",
            room_id=room_id,
            action="add",
            channel_id="+15550100",
            channel_type="sms",
        )
        assert twice.startswith("Conflict")
        await call(
            client,
            "manage_channel_binding",
            room_id=room_id,
            action="update",
            channel_id="+15550100",
            config={"reply_from": "+15550888"},
        )
        listed = await call(client, "manage_channel_binding", room_id=room_id, action="list")
        assert [b["config"] for b in listed["bindings"]] == [{"reply_from": "+15550888"}]
        removed = await call(
            client, "manage_channel_binding", room_id=room_id, action="remove", channel_id="+15550100"
        )
        assert removed["bindings"] == []
        needs_id = await call_error(client, "manage_channel_binding", room_id=room_id, action="remove")
        assert "needs channel_id" in needs_id


async def test_room_changes_stay_inside_the_callers_scope(
    connect: Connect, backend_settings: Settings
) -> None:
    read_only = AgentConfig(read_namespaces=["shared-*"], write_namespaces=["agent-{agent}"])
    settings = backend_settings.model_copy(update={"agents": {"auditor": read_only}})
    async with connect(settings, "triage") as triage, connect(settings, "auditor") as auditor:
        private = (await call(triage, "create_room", namespace="agent-triage"))["room_id"]
        shared = (await call(triage, "create_room"))["room_id"]
        hidden = await call_error(auditor, "manage_channel_binding", room_id=private, action="list")
        assert hidden.startswith("NotFound")
        assert (await call(auditor, "manage_channel_binding", room_id=shared, action="list"))[
            "bindings"
        ] == []
        denied = await call_error(
            auditor, "manage_participant", room_id=shared, action="add", participant_id="bob", kind="human"
        )
        assert denied.startswith("PermissionDenied")
        assert (await call_error(auditor, "update_room", room_id=shared, close=True)).startswith(
            "PermissionDenied"
        )


async def test_list_events_filters_by_visibility_channel_and_sender(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room_id = (await call(client, "create_room"))["room_id"]
        sms = await call(
            client,
            "store_event",
            room_id=room_id,
            content="where is my parcel",
            channel_type="sms",
            sender_address="+15550100",
        )
        await call(
            client, "store_event", room_id=room_id, content="checking the carrier", visibility="agents"
        )
        await call(
            client,
            "store_event",
            room_id=room_id,
            content="any news?",
            channel_type="email",
            sender_address="ana@example.com",
        )
        ana = sms["event"]["source"]["sender_identity_id"]

        async def contents(**filters: object) -> list[str]:
            page = await call(client, "list_events", room_id=room_id, **filters)
            return [e["content"] for e in page["events"]]

        assert await contents(visibility="agents") == ["checking the carrier"]
        assert await contents(visibility="all") == ["where is my parcel", "any news?"]
        assert await contents(channel_type="SMS") == ["where is my parcel"]
        assert await contents(sender_identity_id=ana) == ["where is my parcel"]
        assert await contents(types=["handoff"]) == []


async def test_list_rooms_by_namespace_status_participant_and_customer(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        first = await call(client, "create_room", name="first", namespace="shared-billing")
        second = await call(client, "create_room", name="second")
        stored = await call(
            client,
            "store_event",
            room_id=first["room_id"],
            content="refund?",
            channel_type="sms",
            sender_address="+15550100",
        )
        ana = stored["event"]["source"]["sender_identity_id"]
        await call(client, "update_room", room_id=first["room_id"], close=True)
        await call(
            client,
            "manage_participant",
            room_id=second["room_id"],
            action="add",
            participant_id="bob",
            kind="human",
        )

        async def names(**filters: object) -> list[str]:
            page = await call(client, "list_rooms", **filters)
            return [r["name"] for r in page["rooms"]]

        assert await names() == ["second", "first"]
        assert await names(namespace="shared-bill*") == ["first"]
        assert await names(status="open") == ["second"]
        assert await names(participant="bob") == ["second"]
        assert await names(identity_id=ana) == ["first"]
        page = await call(client, "list_rooms", limit=1)
        rest = await call(client, "list_rooms", limit=1, cursor=page["next_cursor"])
        assert [r["name"] for r in page["rooms"] + rest["rooms"]] == ["second", "first"]
