"""A support team of three agents sharing one mcp-memory data directory, each over its own stdio session.

Story: a customer writes over SMS, later over email (the same person); triage records an observation,
technical records the root cause, billing searches the shared context by meaning, a task is created and
claimed, and the case is escalated to a human with a complete handoff package. Prints what each agent saw.

Run:  python examples/support_team.py [--data-dir DIR] [--embedder local|none]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters


def server_for(config: Path, agent: str) -> StdioServerParameters:
    """Spawn parameters of ``mcp-memory serve`` running as ``agent``."""
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", agent]
    )


async def call(client: Client, agent: str, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool, print a one-line summary, and return its structured result (raise on a tool error)."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise RuntimeError(f"{agent} {tool} failed: {result.content}")
    assert result.structured_content is not None
    return result.structured_content


def say(agent: str, text: str) -> None:
    print(f"[{agent:>9}] {text}")


async def run(config: Path) -> None:
    async with (
        Client(server_for(config, "triage")) as triage,
        Client(server_for(config, "technical")) as technical,
        Client(server_for(config, "billing")) as billing,
    ):
        room = await call(
            triage, "triage", "create_room", name="Ana: charged twice", participants=["technical", "billing"]
        )
        rid = room["room_id"]
        say("triage", f"opened room {rid}")

        sms = await call(
            triage,
            "triage",
            "store_event",
            room_id=rid,
            channel_type="sms",
            sender_address="+1 555 010 2000",
            content="Hi, I was charged twice for my March subscription and the app keeps logging me out.",
            idempotency_key="sms-001",
        )
        identity_id = sms["event"]["source"]["sender_identity_id"]
        say("triage", f"SMS stored as event #{sms['event']['index']}, customer identity {identity_id}")

        linked = await call(
            triage,
            "triage",
            "link_address",
            identity_id=identity_id,
            channel_type="email",
            address="ana.silva@example.com",
        )
        email = await call(
            triage,
            "triage",
            "store_event",
            room_id=rid,
            channel_type="email",
            sender_address="Ana.Silva@example.com",
            content="Following up by email: invoice INV-3391 shows two payments of $49 on March 3.",
        )
        same = email["event"]["source"]["sender_identity_id"] == identity_id
        say(
            "triage",
            f"email stored as event #{email['event']['index']}; same person as the SMS: {same}; "
            f"addresses: {[a['channel_type'] + ':' + a['address'] for a in linked['addresses']]}",
        )

        obs = await call(
            triage,
            "triage",
            "remember",
            namespace="shared-customer-context",
            kind="observation",
            room_id=rid,
            content="Ana Silva reports a duplicate charge on invoice INV-3391 (March) and repeated logouts in the app.",
            tags=["ana", "billing", "login"],
        )
        say("triage", f"observation {obs['memory_id']} in shared-customer-context")
        await call(
            triage, "triage", "handoff", room_id=rid, to_agent="technical", reason="logouts need a root cause"
        )

        await call(
            technical,
            "technical",
            "remember",
            namespace="shared-customer-context",
            kind="decision",
            room_id=rid,
            content="Root cause: the payment retry job fired twice after a gateway timeout, creating a second charge; "
            "the logouts come from the session token being revoked on payment failure.",
            tags=["ana", "root-cause"],
            importance=0.9,
        )
        say("technical", "recorded the root cause as a decision")
        await call(
            technical,
            "technical",
            "handoff",
            room_id=rid,
            to_agent="billing",
            reason="refund the duplicate charge",
        )

        found = await call(
            billing,
            "billing",
            "search_memory",
            query="why was the customer billed two times?",
            namespaces=["shared-*"],
            limit=3,
        )
        say("billing", f"search ({found['mode']}) for 'why was the customer billed two times?':")
        for hit in found["results"]:
            say("billing", f"   {hit['score']:.4f} [{hit['kind']}] {hit['content'][:90]}")

        task = await call(
            billing,
            "billing",
            "create_task",
            title="Refund duplicate $49 charge on INV-3391",
            room_id=rid,
            priority=2,
        )
        claim = await call(billing, "billing", "claim_task", task_id=task["task_id"])
        late = await technical.call_tool("claim_task", {"task_id": task["task_id"]})
        say("billing", f"task {task['task_id']} claimed by {claim['assignee']} (v{claim['version']})")
        say("technical", f"late claim refused: {late.content[0].text}")  # type: ignore[union-attr]

        escalation = await call(
            billing,
            "billing",
            "escalate",
            room_id=rid,
            queue="billing-supervisors",
            reason="Refund above the agent limit needs supervisor approval; customer also affected by logouts.",
        )
        say(
            "billing",
            f"escalated as {escalation['escalation_id']} ({escalation['handoff_event_count']} events, "
            f"{escalation['handoff_open_task_count']} open task)",
        )
        package = await billing.read_resource(f"memory://escalations/{escalation['escalation_id']}")
        handoff = json.loads(package.contents[0].text)["handoff"]  # type: ignore[union-attr]
        say("supervisor", "handoff package:")
        say("supervisor", f"   customer: {[a['address'] for a in handoff['identity']['addresses']]}")
        say("supervisor", f"   events: {[e['type'] + '#' + str(e['index']) for e in handoff['events']]}")
        say("supervisor", f"   observations: {[m['content'][:50] for m in handoff['observations']]}")
        say("supervisor", f"   decisions: {[m['content'][:50] for m in handoff['decisions']]}")
        say("supervisor", f"   open tasks: {[t['title'] for t in handoff['open_tasks']]}")
        state = await call(triage, "triage", "get_conversation_state", room_id=rid)
        say(
            "triage",
            f"room state: active={state['state']['active_agent']} handoffs={state['state']['handoff_count']}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="Data directory (default: a fresh temporary one)."
    )
    parser.add_argument("--embedder", default="local", choices=["local", "none"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = (args.data_dir or Path(scratch)).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        config = data_dir / "support-team.toml"
        config.write_text(
            f'data_dir = "{data_dir.as_posix()}"\n[embedder]\nprovider = "{args.embedder}"\n',
            encoding="utf-8",
        )
        anyio.run(run, config)


if __name__ == "__main__":
    main()
