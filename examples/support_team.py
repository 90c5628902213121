"""A support team of three agents and a human supervisor sharing one mcp-memory data directory, each
over its own stdio session (four ``mcp-memory serve`` processes on one SQLite file).

Story: a customer writes over SMS, later over email (the same person). Triage records what she said and
hands the conversation to technical, who records the root cause and hands it to billing. Billing finds
the root cause by meaning, creates and claims a refund task (a late claim by technical is refused), and
escalates the refund to a human. The supervisor, in a session of her own, reads the escalation's handoff
package, approves the refund, resolves the escalation and checks the audit log.

Run:  python examples/support_team.py [--data-dir DIR] [--embedder local|none]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

#: The team's policies: the agents use the defaults (their own namespace and shared-*); the supervisor
#: reads every namespace, may resolve escalations and read the audit log (the operator group "audit").
CONFIG = """\
data_dir = "{data_dir}"
[embedder]
provider = "{embedder}"
[agents.supervisor]
read_namespaces = ["*"]
tool_groups = ["rooms", "events", "identities", "memories", "tasks", "escalations", "graph", "alerts",
               "facts", "snapshots", "audit"]
"""


def server_for(config: Path, agent: str) -> StdioServerParameters:
    """Spawn parameters of ``mcp-memory serve`` running as ``agent``."""
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_memory", "serve", "--config", str(config), "--agent", agent]
    )


async def call(client: Client, agent: str, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool and return its structured result (raise on a tool error)."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise RuntimeError(f"{agent} {tool} failed: {result.content}")
    assert result.structured_content is not None
    return result.structured_content


def say(agent: str, text: str) -> None:
    """Print what ``agent`` did, wrapped at 100 columns under the agent's name (whole sentences, no cuts)."""
    lines = textwrap.wrap(text, width=88) or [""]
    print(f"[{agent:>10}] {lines[0]}")
    for line in lines[1:]:
        print(f"{'':13}{line}")


async def hand_off(client: Client, agent: str, room_id: str, to: str, reason: str) -> None:
    """Hand the conversation to ``to`` and print the handoff as the room records it."""
    result = await call(client, agent, "handoff", room_id=room_id, to_agent=to, reason=reason)
    count = result["state"]["handoff_count"]
    say(
        agent,
        f"Handed the conversation to {to} (handoff {count} of this room, event #{result['event']['index']}): {reason}.",
    )


async def run(config: Path) -> None:
    async with (
        Client(server_for(config, "triage")) as triage,
        Client(server_for(config, "technical")) as technical,
        Client(server_for(config, "billing")) as billing,
        Client(server_for(config, "supervisor")) as supervisor,
    ):
        room = await call(
            triage, "triage", "create_room", name="Ana: charged twice", participants=["technical", "billing"]
        )
        rid = room["room_id"]
        say("triage", f"Opened room {rid} ({room['name']}) in namespace {room['namespace']}.")

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
        say(
            "triage",
            f"Stored the SMS as event #{sms['event']['index']}; the sender is customer {identity_id}.",
        )

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
        same = (
            "the same person"
            if email["event"]["source"]["sender_identity_id"] == identity_id
            else "someone else"
        )
        addresses = ", ".join(f"{a['channel_type']} {a['address']}" for a in linked["addresses"])
        say(
            "triage",
            f"Stored the email as event #{email['event']['index']}: {same} as the SMS ({addresses}).",
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
        say(
            "triage",
            f"Noted an observation ({obs['memory_id']}) in shared-customer-context for the whole team.",
        )
        await hand_off(triage, "triage", rid, "technical", "the logouts need a root cause")

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
        say(
            "technical",
            "Recorded the root cause as a decision: a doubled payment retry, and tokens revoked on failure.",
        )
        await hand_off(technical, "technical", rid, "billing", "the duplicate charge needs a refund")

        question = "why was the customer billed two times?"
        found = await call(
            billing, "billing", "search_memory", query=question, namespaces=["shared-*"], limit=3
        )
        say("billing", f'Searched the shared context for "{question}" ({found["mode"]} search); best first:')
        if not found["results"]:
            say(
                "billing",
                "  Nothing matched (lexical search needs shared words; the local embedder finds meaning).",
            )
        for rank, hit in enumerate(found["results"], start=1):
            say("billing", f"  {rank}. {hit['kind']} by {hit['author']}: {hit['content']}")

        task = await call(
            billing,
            "billing",
            "create_task",
            title="Refund the duplicate $49 charge on INV-3391",
            room_id=rid,
            priority=2,
        )
        claim = await call(billing, "billing", "claim_task", task_id=task["task_id"])
        say(
            "billing",
            f"Created task {task['task_id']} ({task['title']}) and claimed it (version {claim['version']}).",
        )
        late = await technical.call_tool("claim_task", {"task_id": task["task_id"]})
        refusal = late.content[0].text.partition("Conflict: ")[2]  # type: ignore[union-attr]
        say("technical", f"Tried to claim the same task and was refused: {refusal}.")

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
            f"Escalated the room to a human as {escalation['escalation_id']}, with a handoff package of "
            f"{escalation['handoff_event_count']} events and {escalation['handoff_open_task_count']} open task.",
        )

        # The supervisor's own session: what is waiting, the full package, a decision, the trail.
        waiting = await call(supervisor, "supervisor", "list_escalations", status=["open"])
        say("supervisor", f"{len(waiting['escalations'])} escalation is waiting in the queue:")
        for item in waiting["escalations"]:
            say("supervisor", f"  {item['escalation_id']} from {item['created_by']}: {item['reason']}")
        package = await supervisor.read_resource(f"memory://escalations/{escalation['escalation_id']}")
        handoff = json.loads(package.contents[0].text)["handoff"]  # type: ignore[union-attr]
        say("supervisor", "Read the handoff package:")
        customer = ", ".join(a["address"] for a in handoff["identity"]["addresses"])
        say("supervisor", f"  Customer: {customer}.")
        for event in handoff["events"]:
            say("supervisor", f"  Event #{event['index']} ({event['type']}): {event['content']}")
        for memory in handoff["observations"] + handoff["decisions"]:
            say("supervisor", f"  {memory['kind'].capitalize()} by {memory['author']}: {memory['content']}")
        for open_task in handoff["open_tasks"]:
            say("supervisor", f"  Open task, held by {open_task['assignee']}: {open_task['title']}.")
        resolved = await call(
            supervisor,
            "supervisor",
            "resolve_escalation",
            escalation_id=escalation["escalation_id"],
            resolution="Refund of $49 approved; technical to fix the retry job.",
        )
        say("supervisor", f"Resolved the escalation ({resolved['status']}): {resolved['resolution']}")
        trail = await call(supervisor, "supervisor", "query_audit_log", item_id=rid, limit=50)
        calls = [f"{r['agent']} {r['name']}" for r in reversed(trail["records"]) if r["kind"] == "tool"]
        say("supervisor", f"The audit log shows {len(calls)} tool calls on this room: {', '.join(calls)}.")

        state = await call(triage, "triage", "get_conversation_state", room_id=rid)
        say(
            "triage",
            f"The room is now handled by {state['state']['active_agent']} after "
            f"{state['state']['handoff_count']} handoffs.",
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
            CONFIG.format(data_dir=data_dir.as_posix(), embedder=args.embedder), encoding="utf-8"
        )
        anyio.run(run, config)


if __name__ == "__main__":
    main()
