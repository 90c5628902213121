"""Principals (agents) and their policies, and how a policy becomes a storage ``Scope``.

A policy says which namespaces an agent may read and write (patterns where ``{agent}`` is the agent's
name and ``*`` is a wildcard, e.g. ``agent-{agent}``, ``shared-*``), its clearance (the highest
sensitivity it may read or write) and which tool groups it may call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage import Scope
from storage.models import NAMESPACE_PATTERN, Sensitivity

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken

__all__ = [
    "ACCESS_SCOPE",
    "AGENT_NAME_PATTERN",
    "OPERATOR_GROUPS",
    "PROFILES",
    "TOOL_FLAGS",
    "TOOL_GROUPS",
    "AgentPolicy",
    "Principal",
    "StaticTokenVerifier",
    "check_agent_name",
    "default_tool_groups",
]

#: An agent's name: lowercase letters, digits, ``_ . -``, at most 64 characters, starting with a letter or digit
#: (the usual pattern of principal names, e.g. Kubernetes' DNS labels, widened by ``_`` and ``.``). A name is
#: substituted for ``{agent}`` in namespace patterns, so it must never carry a wildcard (``*``) itself.
AGENT_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"

_AGENT_NAME_RE = re.compile(AGENT_NAME_PATTERN)


def check_agent_name(name: str) -> str:
    """Return ``name`` when it is a valid agent name (``AGENT_NAME_PATTERN``).

    Raises:
        ValueError: it is not (the message says what a name may hold).
    """
    if not isinstance(name, str) or not _AGENT_NAME_RE.fullmatch(name):
        raise ValueError(
            f"agent name {name!r} is not valid: 1-64 lowercase letters, digits, '_', '.', '-', "
            "starting with a letter or digit"
        )
    return name


#: The OAuth scope every accepted token carries.
ACCESS_SCOPE = "memory"

#: Tool groups a policy can allow; every tool belongs to exactly one.
TOOL_GROUPS = (
    "rooms",
    "room_admin",
    "events",
    "identities",
    "identity_admin",
    "memories",
    "sessions",
    "tasks",
    "escalations",
    "graph",
    "alerts",
    "facts",
    "snapshots",
    "retention",
    "audit",
)

#: Groups only operators get: an agent has them only when its policy lists them explicitly.
OPERATOR_GROUPS = frozenset({"audit"})

#: Named sets of tool groups, each holding the one before it (``docs/tools.md`` lists their tools):
#: ``core`` is one agent's knowledge; ``coordination`` adds working with other agents and humans in
#: rooms; ``governance`` adds snapshots and retention of namespaces; ``operator`` adds the audit log.
PROFILES: dict[str, tuple[str, ...]] = {
    "core": ("memories", "sessions", "facts", "graph"),
    "coordination": (
        "rooms",
        "room_admin",
        "events",
        "identities",
        "identity_admin",
        "memories",
        "sessions",
        "tasks",
        "escalations",
        "graph",
        "alerts",
        "facts",
    ),
    "governance": tuple(g for g in TOOL_GROUPS if g not in OPERATOR_GROUPS),
    "operator": TOOL_GROUPS,
}

#: Tools that a policy flag must allow besides their group: tool name -> ``AgentPolicy`` flag. An agent
#: without the flag neither sees nor may call the tool.
TOOL_FLAGS: dict[str, str] = {
    "escalate": "may_escalate",
    "acknowledge_escalation": "may_resolve_escalations",
    "resolve_escalation": "may_resolve_escalations",
}


def default_tool_groups() -> list[str]:
    """Every tool group except the operator groups (the default of ``AgentPolicy.tool_groups``; the
    ``governance`` profile)."""
    return list(PROFILES["governance"])


class AgentPolicy(BaseModel):
    """What one agent may do. Defaults suit a single local agent on the embedded default.

    Attributes:
        read_namespaces: namespace patterns the agent may read.
        write_namespaces: namespace patterns the agent may write.
        clearance: highest sensitivity the agent may read or write.
        profile: a named set of tool groups (``PROFILES``: ``core``, ``coordination``, ``governance``,
            ``operator``); ``tool_groups`` given with it adds groups to the profile's.
        tool_groups: tool groups the agent may call (see ``TOOL_GROUPS``; default: the profile's, or
            without a profile all but the operator groups such as ``audit``). After validation this
            holds every group the agent may use, the profile's included.
        may_escalate: whether it may create escalations.
        may_resolve_escalations: whether it may acknowledge and resolve escalations.
        room_namespace: where ``create_room`` puts a room when the caller names no namespace
            (``{agent}`` allowed); default ``shared-rooms`` (``storage.models.DEFAULT_ROOM_NAMESPACE``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    read_namespaces: list[str] = Field(default_factory=lambda: ["agent-{agent}", "shared-*"])
    write_namespaces: list[str] = Field(default_factory=lambda: ["agent-{agent}", "shared-*"])
    clearance: Sensitivity = Sensitivity.CONFIDENTIAL
    profile: Literal["core", "coordination", "governance", "operator"] | None = None
    tool_groups: list[str] = Field(default_factory=default_tool_groups)
    may_escalate: bool = True
    may_resolve_escalations: bool = True
    room_namespace: str | None = Field(default=None, max_length=128)

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: Any) -> Any:
        """``tool_groups`` = the profile's groups plus those listed (in ``TOOL_GROUPS`` order)."""
        if not isinstance(data, dict) or data.get("profile") not in PROFILES:
            return data  # no profile, or an unknown one (its Literal check names the choices)
        listed = data.get("tool_groups") or []
        if not isinstance(listed, list):
            return data
        chosen = set(PROFILES[data["profile"]]) | set(listed)
        ordered = [g for g in TOOL_GROUPS if g in chosen] + [g for g in listed if g not in TOOL_GROUPS]
        return {**data, "tool_groups": ordered}

    @field_validator("tool_groups")
    @classmethod
    def _known_groups(cls, groups: list[str]) -> list[str]:
        unknown = sorted(set(groups) - set(TOOL_GROUPS))
        if unknown:
            raise ValueError(f"unknown tool group(s) {unknown}: choose from {list(TOOL_GROUPS)}")
        return groups

    @field_validator("room_namespace")
    @classmethod
    def _valid_room_namespace(cls, namespace: str | None) -> str | None:
        if namespace is not None and not re.match(NAMESPACE_PATTERN, namespace.replace("{agent}", "a")):
            raise ValueError(
                f"room_namespace {namespace!r} is not a namespace: lowercase letters, digits, . _ : -, "
                "and {agent} for the agent's name (no wildcard)"
            )
        return namespace

    @field_validator("read_namespaces", "write_namespaces")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            probe = pattern.replace("{agent}", "a").replace("*", "a")
            if not re.match(NAMESPACE_PATTERN, probe):
                raise ValueError(
                    f"namespace pattern {pattern!r} is not valid: lowercase letters, digits, . _ : -, "
                    "with * as wildcard and {agent} for the agent's name"
                )
        return patterns


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the agent's name and its policy.

    Raises:
        ValueError: ``agent`` is not a valid agent name (``AGENT_NAME_PATTERN``).
    """

    agent: str
    policy: AgentPolicy

    def __post_init__(self) -> None:
        check_agent_name(self.agent)

    def scope(self) -> Scope:
        """Return the storage ``Scope`` of this principal (``{agent}`` substituted in patterns).

        The substitution is literal: an agent's name never holds a wildcard (``check_agent_name``).
        """
        return Scope(
            agent=self.agent,
            read_namespaces=tuple(p.replace("{agent}", self.agent) for p in self.policy.read_namespaces),
            write_namespaces=tuple(p.replace("{agent}", self.agent) for p in self.policy.write_namespaces),
            max_sensitivity=self.policy.clearance,
        )

    def room_namespace(self) -> str | None:
        """The namespace of rooms this agent creates without naming one (``None``: the store's default)."""
        configured = self.policy.room_namespace
        return None if configured is None else configured.replace("{agent}", self.agent)

    def may_use(self, group: str) -> bool:
        """True when the policy allows the tool group ``group``."""
        return group in self.policy.tool_groups

    def may_call(self, tool: str, group: str) -> bool:
        """True when the policy allows ``tool`` of ``group``: the group, and the tool's flag in
        ``TOOL_FLAGS`` if it has one."""
        flag = TOOL_FLAGS.get(tool)
        return self.may_use(group) and (flag is None or bool(getattr(self.policy, flag)))


class StaticTokenVerifier:
    """Bearer tokens configured per agent (by SHA-256 digest), for the SDK's ``token_verifier`` hook.

    The presented token is hashed and compared with every configured digest in constant time; the
    matching agent becomes the token's ``client_id``. Unknown tokens get ``None`` (HTTP 401).
    """

    def __init__(self, digests: dict[str, str]) -> None:
        self._digests = dict(digests)

    async def verify_token(self, token: str) -> AccessToken | None:
        """Return the access of ``token`` (``client_id`` = agent name), or ``None`` when unknown."""
        presented = hashlib.sha256(token.encode()).hexdigest()
        agent = None
        for digest, name in self._digests.items():
            if hmac.compare_digest(digest, presented):
                agent = name
        if agent is None:
            return None
        from mcp.server.auth.provider import AccessToken  # the SDK is imported by serving, not by the CLI

        return AccessToken(token=token, client_id=agent, scopes=[ACCESS_SCOPE])
