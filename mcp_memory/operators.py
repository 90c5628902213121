"""HTTP routes for operators beside ``/mcp``: the web inspector (``/inspect``) and ``/metrics``.

Both need the bearer token of an operator (an agent whose policy has the ``audit`` tool group,
``mcp_memory.inspector.OPERATOR_GROUP``); Prometheus sends it with ``authorization: credentials``.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mcp_memory import metrics
from mcp_memory.auth import Principal, StaticTokenVerifier
from mcp_memory.config import Settings
from mcp_memory.inspector import OPERATOR_GROUP, InspectorAccess, inspector_routes
from mcp_memory.services import Service

__all__ = ["operator_routes", "token_access"]


def token_access(settings: Settings, service: Callable[[], Service | None]) -> InspectorAccess:
    """Operator access by the agents' bearer tokens of ``settings``.

    Raises:
        ConfigError: an agent's ``token_env`` is unset, or two agents share a token.
    """
    verifier = StaticTokenVerifier(settings.token_digests())

    async def authenticate(token: str) -> Principal | None:
        access = await verifier.verify_token(token)
        if access is None:
            return None
        return Principal(agent=access.client_id, policy=settings.policy_for(access.client_id))

    return InspectorAccess(service=service, authenticate=authenticate)


def operator_routes(
    settings: Settings,
    *,
    service: Callable[[], Service | None],
    open_subscriptions: Callable[[], int],
    in_flight: Callable[[], int],
) -> list[BaseRoute]:
    """The ``/inspect`` pages and ``GET /metrics`` of an HTTP server, its gauges wired to the live counters.

    Args:
        settings: the deployment (agents, tokens, policies).
        service: the open service, or ``None`` while starting or stopping.
        open_subscriptions: open resource subscriptions now.
        in_flight: tool calls running now.
    """
    access = token_access(settings, service)

    def backlog() -> int:
        current = service()
        return 0 if current is None else current.context.embeddings.pending

    metrics.watch(open_subscriptions=open_subscriptions, embedding_backlog=backlog, in_flight=in_flight)

    async def scrape(request: Request) -> Response:
        principal = await access.principal(request)
        if principal is None:
            return PlainTextResponse(
                "send an operator's token: Authorization: Bearer <token>\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.may_use(OPERATOR_GROUP):
            return PlainTextResponse(
                f"agent {principal.agent!r} is not an operator (needs the {OPERATOR_GROUP!r} tool group)\n",
                status_code=403,
            )
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    return [*inspector_routes(access), Route("/metrics", scrape, methods=["GET"], name="metrics")]
