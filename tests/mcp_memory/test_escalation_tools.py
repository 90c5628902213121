"""Escalation capabilities through real client sessions, on both backends: acknowledging, the alert the
assignee and the queue get at once, escalating from a task."""

from __future__ import annotations

import anyio
import pytest

from mcp_memory.config import AgentConfig, Settings
from tests.mcp_memory.test_facts_versions import read_json
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


def team(settings: Settings) -> Settings:
    """``settings`` with triage, a human supervisor ``ana`` and the queue ``billing-supervisors``."""
    agents = {name: AgentConfig() for name in ("triage", "ana", "billing-supervisors")}
    return settings.model_copy(update={"agents": agents})


async def test_an_escalation_alerts_the_assignee_and_the_queue_at_once(
    connect: Connect, backend_settings: Settings
) -> None:
    settings = team(backend_settings)
    async with connect(settings, "triage") as triage, connect(settings, "ana") as ana:
        room_id = (await call(triage, "create_room"))["room_id"]
        uri = "memory://agents/ana/inbox"
        with anyio.fail_after(15):
            async with ana.listen(resource_subscriptions=[uri]) as subscription:
                escalation = await call(
                    triage,
                    "escalate",
                    room_id=room_id,
                    reason="refund above 500 EUR",
                    assignee="ana",
                    queue="billing-supervisors",
                    priority=3,
                )
                async for event in subscription:
                    assert getattr(event, "uri", None) == uri
                    break
        inbox = await call(ana, "read_inbox")
        [alert] = inbox["alerts"]
        assert alert["severity"] == "critical"
        assert alert["sender"] == "triage"
        assert "refund above 500 EUR" in alert["message"]
        assert alert["metadata"]["escalation_id"] == escalation["escalation_id"]
        assert alert["room_id"] == room_id
    async with connect(settings, "billing-supervisors") as queue:
        queued = await read_json(queue, "memory://agents/billing-supervisors/inbox")
        assert [a["metadata"]["escalation_id"] for a in queued["alerts"]] == [escalation["escalation_id"]]


async def test_acknowledge_then_resolve_and_a_second_acknowledge_conflicts(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room_id = (await call(client, "create_room"))["room_id"]
        escalation = await call(client, "escalate", room_id=room_id, reason="customer threatens to leave")
        acked = await call(client, "acknowledge_escalation", escalation_id=escalation["escalation_id"])
        assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", "triage")
        again = await call_error(client, "acknowledge_escalation", escalation_id=escalation["escalation_id"])
        assert "already acknowledged (by triage)" in again
        done = await call(
            client, "resolve_escalation", escalation_id=escalation["escalation_id"], resolution="kept"
        )
        assert done["status"] == "resolved"


async def test_escalating_a_task_packages_the_task_and_what_was_recorded_for_it(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room_id = (await call(client, "create_room"))["room_id"]
        task = await call(client, "create_task", title="refund 900 EUR", room_id=room_id)
        await call(
            client, "remember", content="charged twice on 3 May", task_id=task["task_id"], kind="observation"
        )
        summary = await call(client, "escalate", task_id=task["task_id"], reason="above my refund limit")
        assert (summary["room_id"], summary["task_id"]) == (room_id, task["task_id"])
        package = (await read_json(client, f"memory://escalations/{summary['escalation_id']}"))["handoff"]
        assert package["task"]["title"] == "refund 900 EUR"
        assert [m["content"] for m in package["task_memories"]] == ["charged twice on 3 May"]
        loose = await call(client, "create_task", title="no room")
        refused = await call_error(client, "escalate", task_id=loose["task_id"], reason="help")
        assert "belongs to no room" in refused
        assert "give room_id" in await call_error(client, "escalate", reason="help")
