"""Requests refused before they reach a tool, a resource or a subscription are audited too.

The server's ``call_tool`` and ``read_resource`` and the subscription handlers audit every call that
reaches them (``services/auditing.py``). A request the SDK refuses first, because its parameters do not
fit the method's schema (``tools/call`` with arguments that are not an object, ``resources/read`` without
a URI), never gets there: ``RefusedCalls``, a server middleware around every request, records it as the
calling agent, with the method's kind and the name it asked for, outcome ``error``.

Not recorded here: requests refused by the HTTP layer before the MCP server sees them (no or a wrong bearer
token: HTTP 401; a malformed body: HTTP 400 with -32700; mismatched ``Mcp-Method`` headers) — no agent ran
them; the access log of the proxy in front is the place for those.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcp_memory.services.auditing import AuditLog, CallKind
from mcp_memory.tools._common import AppState
from storage.models import utc_now

__all__ = ["RefusedCalls", "described_call"]

logger = logging.getLogger("mcp_memory.audit")


def described_call(method: str, params: Mapping[str, Any] | None) -> tuple[CallKind, str] | None:
    """The audit kind and name of a request of ``method`` (``None`` for requests that are not calls)."""
    raw = dict(params) if isinstance(params, Mapping) else {}

    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) else None

    if method == "tools/call":
        return "tool", text("name") or method
    if method == "resources/read":
        return "resource", text("uri") or method
    if method == "resources/subscribe":
        return "resource", f"subscribe {text('uri') or '?'}"
    if method == "subscriptions/listen":
        notifications = raw.get("notifications")
        uris = notifications.get("resourceSubscriptions") if isinstance(notifications, Mapping) else None
        listed = " ".join(u for u in uris if isinstance(u, str)) if isinstance(uris, list) else ""
        return "resource", f"subscribe {listed or '?'}"
    if method == "prompts/get":
        return "resource", f"prompt {text('name') or '?'}"
    return None


class RefusedCalls:
    """Server middleware: audit a call the SDK refused before the audited path saw it."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Run the request; when it failed without opening an audited call, record the refusal."""
        described = described_call(ctx.method, ctx.params)
        if described is None:
            return await call_next(ctx)
        started, started_at = time.perf_counter(), utc_now()
        with AuditLog.marking_request() as mark:
            try:
                return await call_next(ctx)
            except Exception as exc:
                if not mark.audited:
                    await _record(ctx, described, exc, (time.perf_counter() - started) * 1000.0, started_at)
                raise


async def _record(
    ctx: ServerRequestContext[Any, Any],
    described: tuple[CallKind, str],
    error: Exception,
    duration_ms: float,
    at: datetime,
) -> None:
    state = ctx.lifespan_context
    if not isinstance(state, AppState):
        return
    try:
        principal = state.principal_of()
    except Exception:  # noqa: BLE001  (no authenticated caller: nothing ran as anyone)
        return
    kind, name = described
    await state.service.context.audit_log.record(
        principal.agent, kind=kind, name=name, ids=[], error=error, duration_ms=duration_ms, at=at
    )
