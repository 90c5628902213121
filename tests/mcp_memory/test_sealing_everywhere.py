"""Sealing covers confidential facts, task text, alert messages and escalation reasons (issue 14, finding 6),
through real MCP sessions on both backends: none of it is readable below the store, every caller that
may read it gets the plain text back, and a confidential fact without a key is refused like a memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from mcp_memory.config import Settings
from mcp_memory.crypto import ContentCipher
from tests.mcp_memory.conftest import make_settings
from tests.mcp_memory.test_facts_versions import read_json
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio

AGENTS = {"lead": {}, "billing": {}}


async def raw_database(url: str) -> bytes:
    """Every byte the database holds for these areas, read below the store (SQLite file and WAL, or the
    PostgreSQL tables' rows as text)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        tables = ["facts", "namespace_changes", "snapshots", "tasks", "alerts", "escalations"]
        texts = [str(await conn.fetch(f"SELECT t::text AS row FROM {table} AS t")) for table in tables]  # noqa: S608
    finally:
        await conn.close()
    return "\n".join(texts).encode()


async def test_facts_tasks_alerts_and_reasons_are_sealed_at_rest(
    connect: Connect, backend_settings: Settings, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        storage={"url": backend_settings.storage_url},
        agents=AGENTS,
        encryption_key=ContentCipher.generate_key(),
    )
    async with connect.team(settings, AGENTS) as team:
        lead, billing = team["lead"], team["billing"]
        fact = await call(
            lead,
            "set_fact",
            namespace="shared-deal",
            key="terms",
            value={"card": "zqfactx"},
            sensitivity="confidential",
        )
        room = await call(lead, "create_room", name="case")
        task = await call(
            lead, "create_task", title="zqtitlex call", description="zqdescx", room_id=room["room_id"]
        )
        await call(lead, "update_task", task_id=task["task_id"], expected_version=1, description="zqdesc2x")
        await call(lead, "send_alert", to_agents=["billing"], message="zqalertx on hold")
        escalation = await call(lead, "escalate", room_id=room["room_id"], reason="zqreasonx refund")

        # Every way back gives the plain text.
        assert fact["value"] == {"card": "zqfactx"}
        assert (await call(billing, "get_fact", namespace="shared-deal", key="terms"))["value"] == {
            "card": "zqfactx"
        }
        history = await call(billing, "fact_history", namespace="shared-deal", key="terms")
        assert [v["value"] for v in history["changes"]] == [{"card": "zqfactx"}]
        listed = (await call(billing, "list_tasks"))["tasks"]
        assert [(t["title"], t["description"]) for t in listed] == [("zqtitlex call", "zqdesc2x")]
        inbox = await call(billing, "read_inbox")
        assert [a["message"] for a in inbox["alerts"]] == ["zqalertx on hold"]
        package = await read_json(billing, f"memory://escalations/{escalation['escalation_id']}")
        assert package["reason"] == "zqreasonx refund"
        assert [t["title"] for t in package["handoff"]["open_tasks"]] == ["zqtitlex call"]
        summaries = (await call(billing, "list_escalations"))["escalations"]
        assert [s["reason"] for s in summaries] == ["zqreasonx refund"]

    on_disk = await raw_database(settings.storage_url)
    assert b"enc:v1:" in on_disk
    for fragment in (b"zqfactx", b"zqtitlex", b"zqdescx", b"zqdesc2x", b"zqalertx", b"zqreasonx"):
        assert fragment not in on_disk, fragment


async def test_a_confidential_fact_without_a_key_is_refused_and_changes_nothing(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "lead") as lead:
        refused = await call_error(
            lead, "set_fact", namespace="shared-deal", key="terms", value="x", sensitivity="confidential"
        )
        missing = await call_error(lead, "get_fact", namespace="shared-deal", key="terms")
    assert refused.startswith("InvalidInput")
    assert "encryption_key" in refused
    assert missing.startswith("NotFound")


async def test_without_a_key_task_text_stays_readable(client: Client) -> None:
    task = await call(client, "create_task", title="plain title")
    assert (await call(client, "list_tasks"))["tasks"][0]["title"] == task["title"] == "plain title"
