"""Knowledge graph, alerts and learning signals through real MCP client sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.mcp_memory.team import pg_server_or_none, team, team_overrides, team_settings
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

__all__ = ["pg_server_or_none", "team", "team_overrides", "team_settings"]  # fixtures used by the tests below

pytestmark = pytest.mark.anyio


async def test_agents_build_and_traverse_a_shared_graph(team: dict[str, Client]) -> None:
    lead, billing = team["lead"], team["billing"]
    ns = "shared-customer-context"
    added = await call(
        lead,
        "add_relation",
        source="Ana Silva",
        source_type="person",
        relation_type="works_at",
        target="Acme",
        target_type="company",
        namespace=ns,
        confidence=0.8,
    )
    assert len(added["created_entity_ids"]) == 2
    assert added["relation"]["discovered_by"] == "lead"
    await call(
        billing,
        "add_relation",
        source="Acme",
        source_type="company",
        relation_type="depends_on",
        target="Payments API",
        target_type="service",
        namespace=ns,
    )
    await call(
        billing,
        "add_relation",
        source="Payments API",
        source_type="service",
        relation_type="owned_by",
        target="Acme",
        target_type="company",
        namespace=ns,
    )
    await call(billing, "set_entity", name="Acme", type="company", namespace=ns, properties={"tier": "gold"})

    view = await call(billing, "get_entity", entity="Acme", namespace=ns)
    assert view["entity"]["properties"] == {"tier": "gold"}
    assert {n["name"] for n in view["neighbours"]} == {"Ana Silva", "Payments API"}
    assert {r["type"] for r in view["relations"]} == {"works_at", "depends_on", "owned_by"}

    walk = await call(lead, "traverse_graph", start="Ana Silva", namespace=ns, max_depth=3, direction="out")
    assert [(n["entity"]["name"], n["depth"]) for n in walk["nodes"]] == [
        ("Ana Silva", 0),
        ("Acme", 1),
        ("Payments API", 2),
    ]
    only = await call(
        lead, "traverse_graph", start=added["relation"]["source_id"], relation_types=["works_at"], max_depth=5
    )
    assert [n["entity"]["name"] for n in only["nodes"]] == ["Ana Silva", "Acme"]

    with anyio.fail_after(10):
        read = await lead.read_resource(f"memory://entities/{added['relation']['target_id']}")
    assert '"Payments API"' in read.contents[0].text  # type: ignore[union-attr]


async def test_graph_follows_namespace_policy_clearance_and_tool_groups(team: dict[str, Client]) -> None:
    lead, triage, intern = team["lead"], team["triage"], team["intern"]
    await call(lead, "add_relation", source="deal-7", relation_type="part_of", target="q4-plan")
    assert "not found" in await call_error(triage, "get_entity", entity="deal-7", namespace="agent-lead")
    assert "Permission" in await call_error(
        triage, "add_relation", source="a", relation_type="relates_to", target="b", namespace="agent-lead"
    )
    await call(lead, "set_entity", name="vault", namespace="shared-ops", sensitivity="confidential")
    assert "not found" in await call_error(triage, "get_entity", entity="vault", namespace="shared-ops")
    assert "graph tools" in await call_error(intern, "traverse_graph", start="x")
    assert "InvalidInput" in await call_error(
        lead, "add_relation", source="a", relation_type="Not A Type", target="b"
    )


async def test_alerts_reach_inboxes_and_acks_are_per_agent(team: dict[str, Client]) -> None:
    lead, billing, triage = team["lead"], team["billing"], team["triage"]
    alert = await call(
        lead,
        "send_alert",
        to_agents=["billing", "triage"],
        message="Client budget cut: all deals on hold",
        severity="critical",
    )
    assert alert["recipients"] == ["billing", "triage"]
    inbox = await call(billing, "read_inbox")
    assert [(a["alert_id"], a["sender"], a["severity"]) for a in inbox["alerts"]] == [
        (alert["alert_id"], "lead", "critical")
    ]
    acked = await call(billing, "ack_alert", alert_id=alert["alert_id"])
    assert acked["acked_at"] is not None
    assert (await call(billing, "read_inbox"))["alerts"] == []
    assert len((await call(billing, "read_inbox", include_acked=True))["alerts"]) == 1
    assert len((await call(triage, "read_inbox"))["alerts"]) == 1
    assert "not found" in await call_error(lead, "ack_alert", alert_id=alert["alert_id"])
    assert "unknown agent" in await call_error(lead, "send_alert", to_agents=["nobody"], message="hi")
    with anyio.fail_after(10):
        own = await triage.read_resource("memory://agents/triage/inbox")
    assert alert["alert_id"] in own.contents[0].text  # type: ignore[union-attr]
    with anyio.fail_after(10), pytest.raises(MCPError, match="own inbox"):
        await triage.read_resource("memory://agents/billing/inbox")


async def test_inbox_subscribers_are_notified_when_an_alert_arrives(
    connect: Connect, settings_factory: Any
) -> None:
    settings = settings_factory(agents={"lead": {}, "billing": {}})
    async with connect.team(settings, ["lead", "billing"]) as clients:
        uri = "memory://agents/billing/inbox"
        with anyio.fail_after(10):
            async with clients["billing"].listen(resource_subscriptions=[uri]) as subscription:
                await call(clients["lead"], "send_alert", to_agents=["billing"], message="all deals on hold")
                async for event in subscription:
                    assert getattr(event, "uri", None) == uri
                    break


async def test_escalation_package_carries_the_customers_graph_neighbours(team: dict[str, Client]) -> None:
    lead, billing = team["lead"], team["billing"]
    room = await call(lead, "create_room", name="Acme refund")
    stored = await call(
        lead,
        "store_event",
        room_id=room["room_id"],
        content="refund please",
        channel_type="email",
        sender_address="ana@acme.example",
    )
    identity_id = stored["event"]["source"]["sender_identity_id"]
    ns = "shared-customer-context"
    await call(
        billing,
        "set_entity",
        name="Ana Silva",
        type="person",
        namespace=ns,
        properties={"identity_id": identity_id},
    )
    await call(
        billing,
        "add_relation",
        source="Ana Silva",
        source_type="person",
        relation_type="works_at",
        target="Acme",
        target_type="company",
        namespace=ns,
    )
    await call(lead, "set_entity", name="Secret deal", namespace=ns, sensitivity="confidential")
    await call(
        lead,
        "add_relation",
        source="Ana Silva",
        source_type="person",
        relation_type="relates_to",
        target="Secret deal",
        namespace=ns,
    )
    escalation = await call(lead, "escalate", room_id=room["room_id"], reason="wants a manager")
    with anyio.fail_after(10):
        cut = await team["triage"].read_resource(f"memory://escalations/{escalation['escalation_id']}")
    triage_view = json.loads(cut.contents[0].text)["handoff"]["customer_graph"]  # type: ignore[union-attr]
    assert sorted(n["entity"]["name"] for n in triage_view["nodes"]) == ["Acme", "Ana Silva"]
    assert {e["type"] for e in triage_view["edges"]} == {"works_at"}
    with anyio.fail_after(10):
        read = await lead.read_resource(f"memory://escalations/{escalation['escalation_id']}")
    package = json.loads(read.contents[0].text)["handoff"]  # type: ignore[union-attr]
    assert sorted((n["entity"]["name"], n["depth"]) for n in package["customer_graph"]["nodes"]) == [
        ("Acme", 1),
        ("Ana Silva", 0),
        ("Secret deal", 1),
    ]


async def test_learning_signals_are_found_by_kind_tags_and_metadata(team: dict[str, Client]) -> None:
    lead, billing = team["lead"], team["billing"]
    ns = "shared-learnings"
    signals = {
        "success": ("Offering a payment plan settled the refund dispute", ["refund"], {"tier": "gold"}),
        "failure": (
            "Quoting the refund policy verbatim escalated the refund dispute",
            ["refund"],
            {"tier": "gold"},
        ),
        "pattern": ("Enterprise refund requests arrive at quarter end", ["refund", "enterprise"], {}),
        "recommendation": ("For a refund, check the invoice currency first", ["refund"], {"tier": "basic"}),
    }
    ids = {}
    for kind, (content, tags, metadata) in signals.items():
        ids[kind] = (
            await call(
                lead, "remember", content=content, kind=kind, namespace=ns, tags=tags, metadata=metadata
            )
        )["memory_id"]
    await call(lead, "remember", content="refund ticket note", namespace=ns, tags=["refund"])

    async def found(**filters: Any) -> set[str]:
        results = await call(billing, "search_memory", query="refund dispute", namespaces=[ns], **filters)
        return {r["id"] for r in results["results"]}

    assert await found(kinds=["success", "failure"]) == {ids["success"], ids["failure"]}
    assert await found(
        kinds=["success", "failure", "pattern", "recommendation"], metadata={"tier": "gold"}
    ) == {
        ids["success"],
        ids["failure"],
    }
    assert await found(kinds=["pattern", "recommendation"], tags=["enterprise"]) == {ids["pattern"]}
    assert "unknown memory kind" in await call_error(lead, "remember", content="x", kind="sucess")
    assert "unknown memory kind" in await call_error(billing, "search_memory", query="x", kinds=["lesson"])
