"""A small support-team store for the inspector and metrics tests, written through real MCP sessions.

``OPERATORS_TEAM``: ``lead`` is an operator (its policy has the ``audit`` group), ``triage`` is not.
``seed(settings)`` fills the store (rooms, a timeline with a handoff, memories, a fact with history, tasks
one of which is done, reopened and re-claimed, an escalation with its package, a small graph) and returns
the ids the tests look for.
"""

from __future__ import annotations

from typing import Any

from mcp import Client

from mcp_memory.auth import TOOL_GROUPS
from mcp_memory.config import Settings
from mcp_memory.server import build_server
from tests.mcp_memory.test_tools import call

__all__ = ["OPERATORS_TEAM", "seed"]

OPERATORS_TEAM: dict[str, Any] = {
    "lead": {"read_namespaces": ["*"], "tool_groups": list(TOOL_GROUPS)},
    "triage": {},
    "billing": {},
}


async def seed(settings: Settings) -> dict[str, str]:
    """Write the seeded store of these tests through MCP sessions of ``triage``, ``billing`` and ``lead``."""
    async with (
        Client(build_server(settings, agent="triage")) as triage,
        Client(build_server(settings, agent="billing")) as billing,
        Client(build_server(settings, agent="lead")) as lead,
    ):
        room = await call(triage, "create_room", name="Order 1182: charged twice", participants=["billing"])
        room_id = room["room_id"]
        await call(triage, "store_event", room_id=room_id, content="Hi, I was charged twice for order 1182.")
        await call(
            triage, "store_event", room_id=room_id, content="Sorry about that! Let me check.", type="note"
        )
        await call(triage, "handoff", room_id=room_id, to_agent="billing", reason="double charge")
        await call(
            billing, "store_event", room_id=room_id, content="I see two captures of 49.90 EUR; refunding one."
        )
        memory = await call(
            billing,
            "remember",
            content="Order 1182 was captured twice by the payment provider; one capture refunded.",
            namespace="shared-customer-context",
            kind="observation",
            room_id=room_id,
            tags=["billing", "refund"],
        )
        await call(
            billing,
            "remember",
            content="Refund double captures without asking the customer for proof.",
            namespace="shared-customer-context",
            kind="decision",
            room_id=room_id,
        )
        await call(billing, "set_fact", namespace="shared-customer-context", key="refund-limit", value=50)
        await call(
            billing,
            "set_fact",
            namespace="shared-customer-context",
            key="refund-limit",
            value=100,
            expected_version=1,
        )
        task = await call(triage, "create_task", title="Refund order 1182", room_id=room_id, priority=2)
        claimed = await call(billing, "claim_task", task_id=task["task_id"])
        done = await call(
            billing,
            "update_task",
            task_id=task["task_id"],
            status="done",
            expected_version=claimed["version"],
        )
        reopened = await call(
            lead,
            "update_task",
            task_id=task["task_id"],
            status="in_progress",
            expected_version=done["version"],
        )
        await call(
            billing,
            "update_task",
            task_id=task["task_id"],
            status="done",
            expected_version=reopened["version"],
        )
        await call(triage, "create_task", title="Check the payment provider's logs", room_id=room_id)
        await call(
            triage,
            "add_relation",
            source="alice",
            source_type="customer",
            relation_type="placed",
            target="order-1182",
            target_type="order",
            namespace="shared-customer-context",
        )
        await call(
            triage,
            "add_relation",
            source="order-1182",
            source_type="order",
            relation_type="paid_with",
            target="visa-4242",
            target_type="card",
            namespace="shared-customer-context",
        )
        escalation = await call(
            triage,
            "escalate",
            room_id=room_id,
            reason="Customer asks for a goodwill voucher",
            queue="supervisors",
        )
        return {
            "room_id": room_id,
            "memory_id": memory["memory_id"],
            "task_id": task["task_id"],
            "escalation_id": escalation["escalation_id"],
        }
