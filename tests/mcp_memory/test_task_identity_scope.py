"""Tasks live in a namespace and identities are personal data under policy (issue 14, finding 2), through
real MCP sessions on both backends and every transport.

Before: billing listed, read (``memory://tasks/{id}``), renamed (``update_task``) and claimed
(``claim_task``) a task of a room it may not read; it read a customer's name and addresses and linked its
own phone number to that customer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_memory.config import Settings
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.test_facts_versions import read_json
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio

DIRECTORY = "directory-people"

#: lead keeps the directory; billing neither reads nor writes it; reader reads it and shared-* only.
POLICIES: dict[str, dict[str, Any]] = {
    "lead": {
        "read_namespaces": ["agent-{agent}", "shared-*", DIRECTORY],
        "write_namespaces": ["agent-{agent}", "shared-*", DIRECTORY],
    },
    "billing": {},
    "reader": {"read_namespaces": ["shared-*", DIRECTORY], "write_namespaces": []},
}


@pytest.fixture
async def clients(
    connect: Connect, backend_settings: Settings, tmp_path: Path
) -> AsyncIterator[dict[str, Client]]:
    settings = make_settings(
        tmp_path,
        storage={"url": backend_settings.storage_url},
        agents=POLICIES,
        identities={"directory_namespace": DIRECTORY},
    )
    async with connect.team(settings, POLICIES) as team:
        yield team


async def test_a_task_of_a_hidden_room_looks_missing_to_every_way_in(clients: dict[str, Client]) -> None:
    lead, billing = clients["lead"], clients["billing"]
    room = await call(lead, "create_room", name="private", namespace="agent-lead")
    task = await call(lead, "create_task", title="call the bank", room_id=room["room_id"])
    assert task["namespace"] == "agent-lead"  # the room's
    task_id = task["task_id"]

    assert task_id not in {t["task_id"] for t in (await call(billing, "list_tasks"))["tasks"]}
    missing = await call_error(billing, "claim_task", task_id="task_missing")
    assert await call_error(billing, "claim_task", task_id=task_id) == missing.replace(
        "task_missing", task_id
    )
    renamed = await call_error(billing, "update_task", task_id=task_id, expected_version=1, title="mine now")
    assert renamed.startswith("NotFound")
    with anyio.fail_after(10), pytest.raises(MCPError, match="not found"):
        await billing.read_resource(f"memory://tasks/{task_id}")
    unchanged = await call(lead, "list_tasks")
    assert [(t["title"], t["assignee"], t["version"]) for t in unchanged["tasks"]] == [
        ("call the bank", None, 1)
    ]


async def test_a_task_readable_but_not_writable_cannot_be_changed(clients: dict[str, Client]) -> None:
    lead, reader = clients["lead"], clients["reader"]
    task = await call(lead, "create_task", title="shared work")
    assert task["namespace"] == "shared-tasks"
    assert [t["task_id"] for t in (await call(reader, "list_tasks"))["tasks"]] == [task["task_id"]]
    assert (await call_error(reader, "claim_task", task_id=task["task_id"])).startswith("PermissionDenied")
    assert (
        await call_error(reader, "update_task", task_id=task["task_id"], expected_version=1, title="x")
    ).startswith("PermissionDenied")
    assert (await call_error(reader, "create_task", title="new")).startswith("PermissionDenied")


async def test_identities_need_the_directory_namespace(clients: dict[str, Client]) -> None:
    lead, billing, reader = clients["lead"], clients["billing"], clients["reader"]
    ana = await call(
        lead, "resolve_identity", channel_type="email", address="ana@acme.example", display_name="Ana"
    )
    identity_id = ana["identity"]["identity_id"]

    for message in (
        await call_error(billing, "resolve_identity", channel_type="email", address="ana@acme.example"),
        await call_error(
            billing, "link_address", identity_id=identity_id, channel_type="sms", address="+15550001"
        ),
        await call_error(
            reader, "link_address", identity_id=identity_id, channel_type="sms", address="+15550001"
        ),
    ):
        assert message.startswith("PermissionDenied"), message
        assert "Ana" not in message
        assert "ana@acme.example" not in message
    with anyio.fail_after(10), pytest.raises(MCPError, match="personal data"):
        await billing.read_resource(f"memory://identities/{identity_id}")
    with anyio.fail_after(10):
        seen = await reader.read_resource(f"memory://identities/{identity_id}")
    assert "ana@acme.example" in seen.contents[0].text  # type: ignore[union-attr]
    after = await call(lead, "resolve_identity", channel_type="email", address="ana@acme.example")
    assert [a["address"] for a in after["identity"]["addresses"]] == ["ana@acme.example"]


async def test_the_handoff_package_hides_the_customer_from_agents_outside_the_directory(
    clients: dict[str, Client],
) -> None:
    lead, billing = clients["lead"], clients["billing"]
    room = await call(lead, "create_room", name="Acme refund")
    await call(
        lead,
        "store_event",
        room_id=room["room_id"],
        content="refund please",
        channel_type="email",
        sender_address="ana@acme.example",
    )
    escalation = await call(lead, "escalate", room_id=room["room_id"], reason="refund over limit")
    uri = f"memory://escalations/{escalation['escalation_id']}"
    assert (await read_json(lead, uri))["handoff"]["identity"] is not None
    assert (await read_json(billing, uri))["handoff"]["identity"] is None
