"""Facts, snapshots, rollback, branches and merges through real MCP client sessions, on both backends.

Each agent gets its own in-process server on the same database (like separate server processes), over
each transport. The race between two real ``mcp-memory serve`` processes is in
``tests/processes/test_fact_race.py``.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_memory.config import Settings
from mcp_memory.crypto import ContentCipher
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def read_json(client: Client, uri: str) -> Any:
    with anyio.fail_after(10):
        result = await client.read_resource(uri)
    return json.loads(result.contents[0].text)  # type: ignore[union-attr]


async def test_two_agents_racing_set_fact_with_one_version_get_one_success_and_one_conflict(
    connect: Connect,
    backend_settings: Settings,
) -> None:
    async with (
        connect(backend_settings, "triage") as triage,
        connect(backend_settings, "billing") as billing,
    ):
        created = await call(triage, "set_fact", namespace="shared-case-7", key="owner", value="nobody")
        assert created["version"] == 1
        for round_number in range(1, 6):
            seen = await call(billing, "get_fact", namespace="shared-case-7", key="owner")
            outcomes: dict[str, Any] = {}

            async def write(
                agent: str,
                client: Client,
                version: int = seen["version"],
                outcomes: dict[str, Any] = outcomes,
            ) -> None:
                with anyio.fail_after(30):
                    outcomes[agent] = await client.call_tool(
                        "set_fact",
                        {
                            "namespace": "shared-case-7",
                            "key": "owner",
                            "value": agent,
                            "expected_version": version,
                        },
                    )

            async with anyio.create_task_group() as tg:
                tg.start_soon(write, "triage", triage)
                tg.start_soon(write, "billing", billing)

            winners = [a for a, r in outcomes.items() if not r.is_error]
            losers = [r for r in outcomes.values() if r.is_error]
            assert len(winners) == 1, round_number
            assert len(losers) == 1, round_number
            message = losers[0].content[0].text
            new_version = round_number + 1
            assert "Conflict: fact shared-case-7/owner is at version" in message
            assert f'version {new_version} (value "{winners[0]}"' in message
            final = await call(triage, "get_fact", namespace="shared-case-7", key="owner")
            assert (final["value"], final["version"]) == (winners[0], new_version)
        history = await call(billing, "fact_history", namespace="shared-case-7", key="owner")
        assert [c["version"] for c in history["changes"]] == [6, 5, 4, 3, 2, 1]


async def test_fact_tools_and_resources(connect: Connect, backend_settings: Settings) -> None:
    async with connect(backend_settings, "triage") as client:
        policy = {"max_refund": 250, "currency": "EUR"}
        created = await call(client, "set_fact", namespace="shared-policies", key="refund", value=policy)
        stale = await call_error(
            client, "set_fact", namespace="shared-policies", key="refund", value={}, expected_version=0
        )
        updated = await call(
            client,
            "set_fact",
            namespace="shared-policies",
            key="refund",
            value={"max_refund": 300},
            expected_version=1,
        )
        await call(client, "set_fact", namespace="shared-policies", key="sla-hours", value=24)
        listed = await call(client, "list_facts", namespace="shared-policies")
        fact = await read_json(client, "memory://facts/shared-policies/refund")
        page = await read_json(client, "memory://facts/shared-policies")
        deleted = await call(
            client, "delete_fact", namespace="shared-policies", key="sla-hours", expected_version=1
        )
        missing = await call_error(client, "get_fact", namespace="shared-policies", key="sla-hours")
        history = await call(client, "fact_history", namespace="shared-policies", key="sla-hours")

    assert (created["version"], created["value"], created["updated_by"]) == (1, policy, "triage")
    assert "is at version 1" in stale
    assert '"max_refund": 250' in stale
    assert updated["version"] == 2
    assert [(f["key"], f["version"]) for f in listed["facts"]] == [("refund", 2), ("sla-hours", 1)]
    assert fact["value"] == {"max_refund": 300}
    assert [f["key"] for f in page["facts"]] == ["refund", "sla-hours"]
    assert deleted["value"] == 24
    assert "NotFound:" in missing
    assert [(c["version"], c["deleted"]) for c in history["changes"]] == [(2, True), (1, False)]


async def test_snapshot_rollback_branch_and_merge_through_tools(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "research") as client:
        kept = await call(client, "remember", content="Acme renews in March", namespace="shared-acme")
        doomed = await call(client, "remember", content="Acme budget is 50k", namespace="shared-acme")
        await call(client, "set_fact", namespace="shared-acme", key="budget", value=50_000)
        snapshot = await call(
            client, "snapshot_namespace", namespace="shared-acme", label="before bulk import"
        )

        await call(client, "forget", memory_id=doomed["memory_id"])
        await call(client, "remember", content="Acme budget is 5k (bad import)", namespace="shared-acme")
        await call(client, "set_fact", namespace="shared-acme", key="budget", value=5_000, expected_version=1)
        rolled = await call(
            client, "rollback_namespace", namespace="shared-acme", snapshot_id=snapshot["snapshot_id"]
        )
        after_rollback = await call(client, "search_memory", query="Acme budget", namespaces=["shared-acme"])
        budget = await call(client, "get_fact", namespace="shared-acme", key="budget")
        snapshots = await read_json(client, "memory://snapshots/shared-acme")

        branched = await call(
            client,
            "branch_namespace",
            namespace="shared-acme",
            snapshot_id=snapshot["snapshot_id"],
            new_namespace="agent-research",
        )
        await call(
            client, "set_fact", namespace="agent-research", key="budget", value=80_000, expected_version=1
        )
        await call(client, "remember", content="Acme budget raised to 80k", namespace="agent-research")
        merged = await call(client, "merge_branch", branch="agent-research", into="shared-acme")
        final = await call(client, "list_facts", namespace="shared-acme")
        contents = await call(client, "search_memory", query="Acme", namespaces=["shared-acme"])

    assert (rolled["memories_removed"], rolled["memories_restored"], rolled["facts_restored"]) == (1, 1, 1)
    assert {r["id"] for r in after_rollback["results"]} == {kept["memory_id"], doomed["memory_id"]}
    assert (budget["value"], budget["version"]) == (50_000, 3)
    assert [s["label"] for s in snapshots["snapshots"]] == ["before bulk import"]
    assert (branched["memories_copied"], branched["facts_copied"]) == (2, 1)
    assert (merged["memories_added"], merged["facts_set"], merged["conflicts"]) == (1, 1, [])
    assert [(f["key"], f["value"]) for f in final["facts"]] == [("budget", 80_000)]
    assert {r["content"] for r in contents["results"]} == {
        "Acme renews in March",
        "Acme budget is 50k",
        "Acme budget raised to 80k",
    }


async def test_merge_reports_a_fact_changed_on_both_sides_instead_of_overwriting(
    connect: Connect,
    backend_settings: Settings,
) -> None:
    async with (
        connect(backend_settings, "lead") as lead,
        connect(backend_settings, "tester") as tester,
    ):
        await call(lead, "set_fact", namespace="shared-deal", key="status", value="open")
        snapshot = await call(lead, "snapshot_namespace", namespace="shared-deal", label="s")
        await call(
            tester,
            "branch_namespace",
            namespace="shared-deal",
            snapshot_id=snapshot["snapshot_id"],
            new_namespace="agent-tester",
        )
        await call(
            tester, "set_fact", namespace="agent-tester", key="status", value="won", expected_version=1
        )
        await call(
            lead, "set_fact", namespace="shared-deal", key="status", value="on-hold", expected_version=1
        )
        merged = await call(tester, "merge_branch", branch="agent-tester", into="shared-deal")
        status = await call(lead, "get_fact", namespace="shared-deal", key="status")

    assert merged["conflicts"] == [
        {"key": "status", "base": "open", "branch": "won", "target": "on-hold", "target_version": 2}
    ]
    assert status["value"] == "on-hold"


async def test_policies_govern_facts_and_snapshots(connect: Connect, tmp_path: Any) -> None:
    settings = make_settings(
        tmp_path,
        agents={
            "viewer": {"write_namespaces": ["agent-{agent}"], "tool_groups": ["facts"]},
            "lowly": {"clearance": "internal"},
        },
        encryption_key=ContentCipher.generate_key(),  # confidential facts are sealed at rest
    )
    async with (
        connect(settings, "admin") as admin,
        connect(settings, "viewer") as viewer,
        connect(settings, "lowly") as lowly,
    ):
        await call(admin, "set_fact", namespace="shared-ops", key="pager", value="ana")
        await call(
            admin, "set_fact", namespace="shared-ops", key="vault", value="x", sensitivity="confidential"
        )
        snapshot = await call(admin, "snapshot_namespace", namespace="shared-ops", label="s")
        await call(
            admin,
            "set_fact",
            namespace="shared-ops",
            key="vault",
            value="y",
            expected_version=1,
            sensitivity="confidential",
        )

        read = await call(viewer, "get_fact", namespace="shared-ops", key="pager")
        refused_write = await call_error(
            viewer, "set_fact", namespace="shared-ops", key="pager", value="bo", expected_version=1
        )
        refused_group = await call_error(viewer, "snapshot_namespace", namespace="agent-viewer", label="s")
        hidden = await call_error(lowly, "get_fact", namespace="shared-ops", key="vault")
        listed = await call(lowly, "list_facts", namespace="shared-ops")
        refused_rollback = await call_error(
            lowly, "rollback_namespace", namespace="shared-ops", snapshot_id=snapshot["snapshot_id"]
        )
        vault = await call(admin, "get_fact", namespace="shared-ops", key="vault")

    assert read["value"] == "ana"
    assert "PermissionDenied: agent 'viewer' may not write namespace 'shared-ops'" in refused_write
    assert "PermissionDenied: agent 'viewer' may not use snapshots tools" in refused_group
    assert "NotFound:" in hidden
    assert [f["key"] for f in listed["facts"]] == ["pager"]
    assert "PermissionDenied:" in refused_rollback
    assert "above the clearance of 'lowly'" in refused_rollback
    assert vault["value"] == "y", "a refused rollback changes nothing"


async def test_escalation_package_holds_the_facts_of_the_rooms_namespaces(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as client:
        room = await call(client, "create_room", name="case", metadata={"namespaces": ["shared-policies"]})
        await call(
            client,
            "remember",
            content="customer wants a refund",
            kind="observation",
            namespace="shared-cases",
            room_id=room["room_id"],
        )
        await call(client, "set_fact", namespace="shared-cases", key="refund-approved", value=False)
        await call(client, "set_fact", namespace="shared-policies", key="max-refund", value=250)
        await call(client, "set_fact", namespace="shared-unrelated", key="noise", value=1)
        escalation = await call(client, "escalate", room_id=room["room_id"], reason="refund above limit")
        package = await read_json(client, f"memory://escalations/{escalation['escalation_id']}")

    assert escalation["handoff_fact_count"] == 2
    assert [(f["namespace"], f["key"], f["value"]) for f in package["handoff"]["facts"]] == [
        ("shared-cases", "refund-approved", False),
        ("shared-policies", "max-refund", 250),
    ]


async def test_a_subscriber_to_a_fact_hears_when_another_agent_changes_it(
    connect: Connect, backend_settings: Settings
) -> None:
    async with (
        connect(backend_settings, "triage") as triage,
        connect(backend_settings, "billing") as billing,
    ):
        await call(triage, "set_fact", namespace="shared-deal", key="status", value="open")
        uri = "memory://facts/shared-deal/status"
        with anyio.fail_after(15):
            async with triage.listen(resource_subscriptions=[uri]) as subscription:
                await call(
                    billing,
                    "set_fact",
                    namespace="shared-deal",
                    key="status",
                    value="held",
                    expected_version=1,
                )
                async for event in subscription:
                    assert getattr(event, "uri", None) == uri
                    break
        changed = await read_json(triage, uri)

    assert (changed["value"], changed["version"]) == ("held", 2)
