"""What an agent sees of the tools: exactly those its policy lets it call, in a compact form.

An LLM client sends the whole ``tools/list`` to the model on every turn, so every character counts.
``ToolView`` answers ``tools/list`` per caller (a server middleware: the SDK's listing has no caller):

- **Exact**: a tool is listed only when the caller's policy allows its tool group and, for the tools of
  ``auth.TOOL_FLAGS`` (``escalate``, ``resolve_escalation``), the policy flag; an operator tool is never
  shown to an agent that cannot call it.
- **Compact** (``compact_tool``): input schemas keep what a model acts on (types, descriptions, enums,
  defaults, numeric bounds, required) and lose ``title``s, ``$defs``/``$ref`` indirection, ``null``
  alternatives of optional parameters and ``default: null``. An unknown argument is refused all the same
  (``mcp_memory.arguments``: the error lists the accepted parameters). String bounds under
  ``KEPT_MAX_LENGTH`` are left out of the listing (still enforced). The output schema keeps what a client
  validates cheaply: that the structured result is an object.

Budgets (``tests/mcp_memory/test_tool_budget.py``, printed by ``bench/tool_budget.py``): the default
agent's list at most 24,000 characters and the support team's triage agent's at most 20,000, counted as
``len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]))``.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ToolError

from mcp_memory.arguments import Parameters, check_arguments
from mcp_memory.auth import TOOL_FLAGS, Principal
from mcp_memory.config import LimitSettings
from storage import PermissionDeniedError

__all__ = ["KEPT_MAX_LENGTH", "ToolView", "compact_schema", "compact_tool"]

#: A string's ``maxLength`` is listed from this length up (a text's limit guides a model; an id's 128 does
#: not); shorter bounds and every ``minLength`` are still enforced, and named in the error of a call.
KEPT_MAX_LENGTH = 1000


class ToolView:
    """Server middleware answering ``tools/list`` with the caller's tools, compacted; and the admission of
    a tool call (``admit``: the same policy, then strict arguments).

    Tools are known by their group (``add_tools``, fed by ``tools.register_all``); a tool without a group
    is never listed and never admitted.
    """

    def __init__(self) -> None:
        self._groups: dict[str, str] = {}
        self._parameters: dict[str, Parameters] = {}
        self._compact: dict[str, dict[str, Any]] = {}

    def add_tools(self, groups: dict[str, str], input_schemas: dict[str, dict[str, Any]]) -> None:
        """Know the tools of ``groups`` (tool name -> tool group) with their ``input_schemas`` (name -> schema)."""
        self._groups.update(groups)
        self._parameters.update({name: Parameters.of(schema) for name, schema in input_schemas.items()})

    def admit(
        self, principal: Principal, tool: str, arguments: dict[str, Any], limits: LimitSettings
    ) -> None:
        """Check a call of ``tool`` before it runs (an unknown tool is left to the SDK to report).

        Raises:
            PermissionDeniedError: the policy does not allow the tool.
            InvalidInputError: an unknown argument, or free-form JSON over a ``[limits]`` cap.
        """
        accepted = self._parameters.get(tool)
        if accepted is None:
            return
        refusal = self.refusal(principal, tool)
        if refusal is not None:
            raise PermissionDeniedError(refusal)
        check_arguments(tool, arguments, accepted, limits)

    def allows(self, principal: Principal, tool: str) -> bool:
        """True when ``principal`` may call ``tool`` (its group and, if any, its policy flag)."""
        group = self._groups.get(tool)
        return group is not None and principal.may_call(tool, group)

    def refusal(self, principal: Principal, tool: str) -> str | None:
        """Why ``principal`` may not call ``tool`` (a message for the model), or ``None`` when it may."""
        group = self._groups.get(tool)
        if group is None:
            return f"{tool} is not a tool of any tool group"
        if not principal.may_use(group):
            groups = ", ".join(principal.policy.tool_groups) or "none"
            return f"agent {principal.agent!r} may not use {group} tools (policy tool_groups: {groups})"
        if not principal.may_call(tool, group):
            return f"agent {principal.agent!r} may not call {tool} (policy {TOOL_FLAGS[tool]}=false)"
        return None

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Middleware: filter and compact a ``tools/list`` result (its wire form); pass anything else."""
        result = await call_next(ctx)
        if ctx.method != "tools/list" or not isinstance(result, dict):
            return result
        principal = _principal(ctx)
        tools = [
            self._compacted(tool)
            for tool in result.get("tools", [])
            if principal is not None and self.allows(principal, str(tool.get("name")))
        ]
        return {**result, "tools": tools}

    def _compacted(self, tool: dict[str, Any]) -> dict[str, Any]:
        name = str(tool.get("name"))
        if name not in self._compact:  # schemas are fixed once the server is built
            self._compact[name] = compact_tool(tool)
        return self._compact[name]


def _principal(ctx: ServerRequestContext[Any, Any]) -> Principal | None:
    """The caller of the request, or ``None`` without an mcp-memory lifespan or an authenticated caller."""
    state = getattr(ctx, "lifespan_context", None)
    principal_of = getattr(state, "principal_of", None)
    if principal_of is None:
        return None
    try:
        principal = principal_of()
    except ToolError:
        return None
    return principal if isinstance(principal, Principal) else None


def compact_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool's wire form with a compact input schema and a minimal output schema."""
    compacted = {**tool, "inputSchema": compact_schema(tool.get("inputSchema", {"type": "object"}))}
    if isinstance(tool.get("outputSchema"), dict):
        compacted["outputSchema"] = _output_outline(tool["outputSchema"])
    return compacted


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema without what a model does not read, accepting the same arguments in practice.

    Drops ``title`` keywords and ``$defs`` (each ``$ref`` is replaced by its definition), ``default: null``
    and ``additionalProperties: true``; ``anyOf: [X, {"type": "null"}]`` becomes ``X`` (the parameter is
    optional anyway: leaving it out means null). Property names are kept even when one is ``title``.
    """
    defs = schema.get("$defs", {})
    compacted = _compact(schema, defs)
    assert isinstance(compacted, dict)
    return compacted


def _compact(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_compact(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        target = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        return _compact({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs") or (key == "default" and value is None):
            continue
        if key == "additionalProperties" and value is True:
            continue
        if key == "minLength" or (key == "maxLength" and isinstance(value, int) and value < KEPT_MAX_LENGTH):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _compact(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _compact(value, defs)
    alternatives = out.get("anyOf")
    if isinstance(alternatives, list) and {"type": "null"} in alternatives:
        rest = [a for a in alternatives if a != {"type": "null"}]
        del out["anyOf"]
        out = {**rest[0], **out} if len(rest) == 1 else {"anyOf": rest, **out}
    items = out.get("items")
    if "description" in out and isinstance(items, dict) and "description" in items:
        out["items"] = {k: v for k, v in items.items() if k != "description"}  # the list's says it
    return out


def _output_outline(schema: dict[str, Any]) -> dict[str, Any]:
    """The outline of a result's schema a client validates cheaply: a JSON object (the full schema is the
    return model's, ``docs/tools.md``; a model reads the result itself, never its schema)."""
    return {"type": schema.get("type", "object")}
