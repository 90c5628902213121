"""Sessions through real client sessions, on both backends: created with a namespace and metadata, read
back, and memories filed, searched and listed by session."""

from __future__ import annotations

import pytest

from mcp_memory.config import Settings
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def test_a_session_holds_its_memories_for_search_and_listing(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as triage, connect(backend_settings, "billing") as billing:
        session = await call(triage, "create_session", namespace="shared-cases", metadata={"ticket": "T-42"})
        assert (session["namespace"], session["metadata"], session["created_by"]) == (
            "shared-cases",
            {"ticket": "T-42"},
            "triage",
        )
        assert await call(billing, "get_session", session_id=session["session_id"]) == session
        kept = await call(
            triage, "remember", content="refund promised by Friday", session_id=session["session_id"]
        )
        assert kept["namespace"] == "shared-cases"  # the session's namespace by default
        await call(triage, "remember", content="refund policy is 30 days", namespace="shared-cases")
        found = await call(billing, "search_memory", query="refund", session_id=session["session_id"])
        assert [r["id"] for r in found["results"]] == [kept["memory_id"]]
        listed = await call(billing, "list_memories", session_id=session["session_id"])
        assert [m["memory_id"] for m in listed["memories"]] == [kept["memory_id"]]


async def test_sessions_keep_to_the_callers_namespaces(connect: Connect, backend_settings: Settings) -> None:
    async with connect(backend_settings, "triage") as triage, connect(backend_settings, "billing") as billing:
        private = await call(triage, "create_session")
        assert private["namespace"] == "agent-triage"
        hidden = await call_error(billing, "get_session", session_id=private["session_id"])
        assert hidden.startswith("NotFound")
        denied = await call_error(billing, "create_session", namespace="agent-triage")
        assert denied.startswith("PermissionDenied")
        taken = await call_error(triage, "create_session", session_id=private["session_id"])
        assert taken.startswith("Conflict")
