"""MCP prompts: ready-made requests that pull the right resources for a model.

- ``catch_up_on_room(room_id)``: before taking a room over: its conversation state, latest events,
  observations and decisions, open tasks; asks for a short status and the next step.
- ``handoff_briefing(room_id, to_agent)``: the same material, asking for a briefing for the next agent.
- ``escalation_summary(escalation_id)``: an escalation's frozen handoff package, asking for a summary a
  human can act on.

Every read runs as the caller, inside its scope and tool groups (``rooms``, ``events``, ``memories``,
``tasks``, ``escalations``); each service call it makes is audited as an in-process call
(``<area>.<method>``). A domain failure (an unknown or hidden room) is raised as the JSON-RPC error of
``mcp_memory.errors.prompt_failure`` (the SDK passes an ``MCPError`` through unchanged).
Rooms, timelines and escalations are embedded as their resources (``memory://rooms/{id}``...), so a client
can re-read or subscribe to them; memories and tasks are embedded as JSON text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from mcp_types import EmbeddedResource, TextContent, TextResourceContents
from pydantic import BaseModel, Field, ValidationError

from mcp_memory.auth import Principal
from mcp_memory.errors import prompt_failure
from mcp_memory.services import Service
from mcp_memory.services.changes import escalation_uri, room_events_uri, room_uri
from mcp_memory.tools._common import caller
from storage import StorageError
from storage.models import MemoryFilter, TaskStatus

__all__ = ["PROMPT_MEMORY_LIMIT", "register_prompts"]

JSON = "application/json"

#: Most observation/decision memories and open tasks a room prompt embeds (newest first).
PROMPT_MEMORY_LIMIT = 20

RoomId = Annotated[str, Field(description="The room (conversation) id.", max_length=128)]


def register_prompts(server: MCPServer[Any]) -> None:
    """Register the prompts on ``server``."""

    @server.prompt(title="Catch up on a room")
    async def catch_up_on_room(room_id: RoomId, ctx: Context[Any, Any]) -> list[Message]:
        """Read a room's state, latest events, observations, decisions and open tasks before taking it over."""
        service, me = caller(ctx)
        with _failures("catch_up_on_room"):
            material = await _room_material(service, me, room_id)
        ask = (
            f"You are about to take over room {room_id}. Read the material below, then reply with: who the "
            "customer is and what they want, what has been done and decided, what is still open (tasks, "
            "promises made), and the very next step. Do not repeat questions the customer already answered."
        )
        return [UserMessage(ask), *material]

    @server.prompt(title="Handoff briefing")
    async def handoff_briefing(
        room_id: RoomId,
        ctx: Context[Any, Any],
        to_agent: Annotated[
            str, Field(description="The agent taking over.", max_length=128)
        ] = "the next agent",
    ) -> list[Message]:
        """Write a briefing for the agent that takes a room over, from the room's timeline and records."""
        service, me = caller(ctx)
        with _failures("handoff_briefing"):
            material = await _room_material(service, me, room_id)
        ask = (
            f"Write a handoff briefing of room {room_id} for {to_agent}, in at most 10 bullet points: the "
            "customer and their request, facts established, decisions taken and why, open tasks with their "
            "owner, commitments made to the customer, and risks. Cite event indexes (#n) for claims. Then "
            "call handoff with that briefing as the reason."
        )
        return [UserMessage(ask), *material]

    @server.prompt(title="Escalation summary")
    async def escalation_summary(
        escalation_id: Annotated[str, Field(description="The escalation id.", max_length=128)],
        ctx: Context[Any, Any],
    ) -> list[Message]:
        """Summarise an escalation's handoff package for the human who must act on it."""
        service, me = caller(ctx)
        with _failures("escalation_summary"):
            escalation = await service.escalations.get_escalation(me, escalation_id)
        ask = (
            f"Summarise escalation {escalation_id} for the human who must handle it, in plain language: "
            "the decision or action needed (the reason), the customer, what happened (with event indexes "
            "#n), what the agents already tried, open tasks, and a recommended next step. Keep it under "
            "200 words; flag anything confidential."
        )
        return [UserMessage(ask), _embedded(escalation_uri(escalation_id), escalation)]


@contextmanager
def _failures(prompt: str) -> Iterator[None]:
    """Raise the block's domain errors as their JSON-RPC error (``prompt_failure``)."""
    try:
        yield
    except (StorageError, ValidationError) as exc:
        mapped = prompt_failure(exc, prompt=prompt)
        if mapped is None:
            raise
        raise mapped from exc


async def _room_material(service: Service, me: Principal, room_id: str) -> list[Message]:
    """The room's state and timeline (as resources), its observations/decisions and open tasks (JSON)."""
    state = await service.rooms.get_conversation_state(me, room_id)
    events = await service.events.list_events(me, room_id, before_index=state.last_event_index + 1)
    notes = await service.memories.list_memories(
        me, MemoryFilter(room_id=room_id, kinds=["observation", "decision"]), limit=PROMPT_MEMORY_LIMIT
    )
    tasks = await service.tasks.list_tasks(
        me,
        room_id=room_id,
        status=[TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.IN_PROGRESS],
        limit=PROMPT_MEMORY_LIMIT,
    )
    return [
        _embedded(room_uri(room_id), state),
        _embedded(room_events_uri(room_id), events),
        UserMessage(TextContent(type="text", text="Observations and decisions: " + notes.model_dump_json())),
        UserMessage(TextContent(type="text", text="Open tasks: " + tasks.model_dump_json())),
    ]


def _embedded(uri: str, value: BaseModel) -> Message:
    """``value`` as the embedded resource at ``uri`` (JSON) in a user message."""
    contents = TextResourceContents(uri=uri, mime_type=JSON, text=value.model_dump_json())
    return UserMessage(EmbeddedResource(type="resource", resource=contents))
