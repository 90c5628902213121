"""An agent's inbox subscription hears an alert sent through ANOTHER server process (stdio, both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.shared.subscriptions import ResourceUpdated

from tests.processes.driver import server_parameters
from tests.processes.test_subscriptions import WAIT_SECONDS, call

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_an_inbox_subscriber_hears_an_alert_sent_by_another_process(team_config: Path) -> None:
    inbox_uri = "memory://agents/triage/inbox"
    async with (
        Client(server_parameters(team_config, "triage")) as triage,
        Client(server_parameters(team_config, "lead")) as lead,
    ):
        async with triage.listen(resource_subscriptions=[inbox_uri]) as sub:
            alert = await call(
                lead, "send_alert", to_agents=["triage", "billing"], message="budget cut: deals on hold"
            )
            with anyio.fail_after(WAIT_SECONDS):
                event = await anext(sub)
        assert event == ResourceUpdated(uri=inbox_uri)
        page = await triage.read_resource(inbox_uri)
        alerts = json.loads(page.contents[0].text)["alerts"]  # type: ignore[union-attr]
        assert [a["alert_id"] for a in alerts] == [alert["alert_id"]]
