"""Who may open the inspector (and ``/metrics``): a principal whose policy has the operator group.

Over HTTP the operator presents its bearer token, either in an ``Authorization: Bearer <token>`` header
(scripts, Prometheus) or once in the login form, which keeps it in an HTTP-only, same-site cookie scoped
to ``/`` of this server (browsers). ``mcp-memory inspect`` on a local data dir runs as one fixed principal
and asks for no token: whoever can read the data dir's files can read the data anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request

from mcp_memory.auth import TOOL_GROUPS, AgentPolicy, Principal
from mcp_memory.services import Service
from storage.models import Sensitivity

__all__ = ["COOKIE", "OPERATOR_GROUP", "InspectorAccess", "local_operator"]

#: The tool group that makes an agent an operator (``mcp_memory.auth.OPERATOR_GROUPS``).
OPERATOR_GROUP = "audit"

#: Name of the cookie that carries the operator's token after the login form.
COOKIE = "mcp_memory_operator"


@dataclass(frozen=True)
class InspectorAccess:
    """How the inspector finds the service and the caller.

    Attributes:
        service: the open service, or ``None`` while the server starts or drains (pages answer 503).
        authenticate: bearer token -> principal, or ``None`` for an unknown token.
        local: when set, every request runs as this principal and no token is asked for.
    """

    service: Callable[[], Service | None]
    authenticate: Callable[[str], Awaitable[Principal | None]]
    local: Principal | None = None

    async def principal(self, request: Request) -> Principal | None:
        """The caller of ``request`` (header token first, then the login cookie), or ``None``."""
        if self.local is not None:
            return self.local
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            token = request.cookies.get(COOKIE, "")
        token = token.strip()
        return await self.authenticate(token) if token else None


def local_operator(agent: str = "local-operator") -> Principal:
    """A principal that reads every namespace at every sensitivity, with every tool group (read-only use)."""
    policy = AgentPolicy(
        read_namespaces=["*"],
        write_namespaces=[],
        clearance=Sensitivity.CONFIDENTIAL,
        tool_groups=list(TOOL_GROUPS),
    )
    return Principal(agent=agent, policy=policy)
