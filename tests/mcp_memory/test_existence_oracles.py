"""A hidden item answers like a missing one, in reads and in the answers of writes (issue 14, finding 3),
on both backends and every transport.

Where a write cannot succeed because a hidden item holds the id or key (ids and fact keys are unique), the
answer is the same whether the caller can see the holder or not, and carries nothing of it.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from mcp_memory.crypto import ContentCipher
from tests.mcp_memory.team import pg_server_or_none, team, team_settings
from tests.mcp_memory.test_facts_versions import read_json
from tests.mcp_memory.test_tools import call, call_error

__all__ = ["pg_server_or_none", "team", "team_settings"]

pytestmark = pytest.mark.anyio


@pytest.fixture
def team_overrides() -> dict[str, Any]:
    return {"encryption_key": ContentCipher.generate_key()}


async def test_create_room_with_a_hidden_rooms_id_answers_like_a_visible_taken_id(
    team: dict[str, Client],
) -> None:
    lead, billing = team["lead"], team["billing"]
    await call(lead, "create_room", name="private", room_id="case-7", namespace="agent-lead")
    await call(billing, "create_room", name="shared", room_id="case-8")
    hidden = await call_error(billing, "create_room", name="mine", room_id="case-7")
    visible = await call_error(billing, "create_room", name="mine", room_id="case-8")
    assert hidden == visible.replace("case-8", "case-7")
    assert "exists" not in hidden  # a read says "not found": the write must not say the opposite
    assert "not available" in hidden
    assert (await call_error(billing, "get_conversation_state", room_id="case-7")).startswith("NotFound")


async def test_set_fact_over_a_fact_above_the_clearance_reveals_nothing_of_it(
    team: dict[str, Client],
) -> None:
    lead, triage = team["lead"], team["triage"]  # triage's clearance is internal
    await call(
        lead, "set_fact", namespace="shared-deal", key="terms", value="net 30", sensitivity="confidential"
    )
    await call(
        lead,
        "set_fact",
        namespace="shared-deal",
        key="terms",
        value="net 60",
        expected_version=1,
        sensitivity="confidential",
    )
    for sent in (0, 1, 2):
        message = await call_error(
            triage, "set_fact", namespace="shared-deal", key="terms", value="x", expected_version=sent
        )
        for secret in ("clearance", "confidential", "version 2", "net 60", "exists"):
            assert secret not in message, message
    assert (await call_error(triage, "get_fact", namespace="shared-deal", key="terms")).startswith("NotFound")
    assert (await call(lead, "get_fact", namespace="shared-deal", key="terms"))["value"] == "net 60"


async def test_conversation_state_counts_only_the_events_the_caller_may_read(team: dict[str, Client]) -> None:
    lead, triage = team["lead"], team["triage"]  # triage's clearance is internal
    room = await call(lead, "create_room", name="card case")
    room_id = room["room_id"]
    await call(lead, "store_event", room_id=room_id, content="card 4111", sensitivity="confidential")
    state = await call(triage, "get_conversation_state", room_id=room_id)
    assert state["last_event_index"] == 0
    assert (await read_json(triage, f"memory://rooms/{room_id}"))["last_event_index"] == 0
    await call(lead, "store_event", room_id=room_id, content="hello")
    assert (await call(triage, "get_conversation_state", room_id=room_id))["last_event_index"] == 2
    assert (await call(lead, "get_conversation_state", room_id=room_id))["last_event_index"] == 2
    await call(lead, "store_event", room_id=room_id, content="card 5500", sensitivity="confidential")
    assert (await call(triage, "get_conversation_state", room_id=room_id))["last_event_index"] == 2
    assert (await call(lead, "get_conversation_state", room_id=room_id))["last_event_index"] == 3
