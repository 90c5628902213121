"""Refused calls and subscriptions are audited, and a server that cannot start says why in one line
(issue 14, finding 9), on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from pydantic import SecretStr

from mcp_memory.config import Settings
from mcp_memory.crypto import ContentCipher
from mcp_memory.services import open_service
from storage import AuditFilter, Sensitivity
from tests.cli_runner import run_cli
from tests.mcp_memory.test_tools import call
from tests.mcp_memory.transports import Connect, mounted_app, token_of, with_tokens

pytestmark = pytest.mark.anyio

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


async def _records(settings: Settings, **filters: Any) -> list[Any]:
    async with open_service(settings) as service:
        page = await service.store.list_audit(AuditFilter.model_validate(filters), limit=100)
    return list(reversed(page.items))  # oldest first


async def test_requests_refused_by_the_sdks_schema_check_are_audited(backend_settings: Settings) -> None:
    settings = with_tokens(backend_settings, ["triage"])
    bodies = [
        ("tools/call", {"name": "list_events", "arguments": [1]}),
        ("resources/read", {}),
    ]
    async with mounted_app(settings, "streamable-http") as app:
        for number, (method, params) in enumerate(bodies, 1):
            headers = {
                "Authorization": f"Bearer {token_of('triage')}",
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
                "MCP-Protocol-Version": "2026-07-28",
                "Mcp-Method": method,
            }
            if "name" in params:
                headers["Mcp-Name"] = str(params["name"])
            body = {"jsonrpc": "2.0", "id": number, "method": method, "params": {**params, "_meta": META}}
            with anyio.fail_after(10):
                response = await app.http.post("/mcp", content=json.dumps(body), headers=headers)
            assert response.json()["error"]["code"] == -32602, response.text

    records = await _records(settings)
    assert [(r.agent, r.kind, r.name, r.outcome.value) for r in records] == [
        ("triage", "tool", "list_events", "error"),
        ("triage", "resource", "resources/read", "error"),
    ]


async def test_unknown_tools_and_bad_arguments_are_audited_once(connect: Connect, settings: Settings) -> None:
    async with connect(settings, "triage") as client:
        with anyio.fail_after(10):
            unknown = await client.call_tool("no_such_tool", {})
            invalid = await client.call_tool("list_events", {"room_id": 5})
    assert unknown.is_error
    assert invalid.is_error
    records = await _records(settings)
    assert [(r.name, r.outcome.value) for r in records] == [
        ("no_such_tool", "error"),
        ("list_events", "error"),
    ]


async def test_subscriptions_are_audited_refused_or_not(connect: Connect, settings: Settings) -> None:
    async with connect(settings, "triage") as client:
        with anyio.fail_after(10), pytest.raises(MCPError):
            async with client.listen(resource_subscriptions=["memory://agents/lead/inbox"]):
                pass
        room = await call(client, "create_room", name="watched")
        uri = f"memory://rooms/{room['room_id']}/events"
        with anyio.fail_after(10):
            async with client.listen(resource_subscriptions=[uri]):
                pass

    records = await _records(settings, kind="resource")
    assert [(r.agent, r.name, r.ids, r.outcome.value, r.error_type) for r in records] == [
        ("triage", "subscribe memory://agents/lead/inbox", ["lead"], "error", "PermissionDeniedError"),
        ("triage", f"subscribe {uri}", [room["room_id"]], "ok", None),
    ]


async def test_serving_http_with_the_wrong_encryption_key_fails_in_one_line(
    backend_settings: Settings, tmp_path: Path
) -> None:
    sealed_with = ContentCipher.generate_key()
    async with open_service(
        backend_settings.model_copy(update={"encryption_key": SecretStr(sealed_with)})
    ) as service:
        me = service.principal("lead")
        await service.memories.remember(
            me, "card 4111", sensitivity=Sensitivity.CONFIDENTIAL, namespace="shared-x"
        )
    config = tmp_path / "team.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[storage]\nurl = "{backend_settings.storage_url}"\n'
        '[embedder]\nprovider = "none"\n'
        f'[agents.lead]\ntoken_sha256 = "{"0" * 64}"\n',
        encoding="utf-8",
    )
    env = {"MCP_MEMORY_ENCRYPTION_KEY": ContentCipher.generate_key()}
    result = await run_cli("serve", "--config", str(config), "--transport", "streamable-http", env=env)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "encryption_key" in lines[0]
    assert "Traceback" not in result.stderr
