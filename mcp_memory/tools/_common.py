"""What every tool shares: finding the caller, turning domain errors into MCP tool errors, and auditing.

Error rule (python-sdk ``docs/servers/handling-errors.md``): a failure a smarter model could have avoided
(bad input, stale version, missing item, denied access) is a ``ToolError``: an ``is_error`` result whose
message says what to do next. Anything else is a crash the SDK reports without details.

Audit hook: ``tool_errors`` is the one decorator every tool carries, so it is where every tool call is
audited (``AuditService.record``): the agent, the tool's name, the ids it was given (arguments named
``*_id``) and returned (fields named ``id`` or ``*_id`` in the result, up to three levels deep), the
outcome with the error class, the start time and the duration. A call whose caller cannot be
established (no authenticated principal) never reaches the tool and is not recorded.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, ParamSpec, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ValidationError

from mcp_memory.auth import Principal
from mcp_memory.services import Service
from storage import StorageError
from storage.models import utc_now

__all__ = [
    "DESTRUCTIVE",
    "READ",
    "WRITE",
    "WRITE_IDEMPOTENT",
    "AppState",
    "audit_call",
    "caller",
    "ids_in",
    "tool_errors",
]

P = ParamSpec("P")
R = TypeVar("R")

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
WRITE_IDEMPOTENT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


@dataclass
class AppState:
    """The lifespan state of a server: the service and how to find the caller of a request."""

    service: Service
    principal_of: Callable[[Context[Any, Any]], Principal]


def caller(ctx: Context[Any, Any]) -> tuple[Service, Principal]:
    """Return the service and the calling principal of the current request."""
    state: AppState = ctx.request_context.lifespan_context
    return state.service, state.principal_of(ctx)


def _app_state(ctx: Context[Any, Any] | None) -> AppState | None:
    """The server's ``AppState`` behind ``ctx``, or ``None`` outside a request of an mcp-memory server."""
    if ctx is None:
        return None
    try:
        state = ctx.request_context.lifespan_context
    except (ValueError, AttributeError, LookupError):
        return None
    return state if isinstance(state, AppState) else None


def ids_in(value: Any, depth: int = 3) -> Iterator[str]:
    """Item ids inside a tool's result: string fields named ``id`` or ``*_id`` of models, dicts and lists.

    Walks at most ``depth`` levels (a page, its items, their fields), so a handoff package's nested
    contents are not all listed.
    """
    if depth < 0:
        return
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name, None) for name in type(value).model_fields}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key == "id" or str(key).endswith("_id")):
                yield item
            elif isinstance(item, BaseModel | dict | list):
                yield from ids_in(item, depth - 1)
    elif isinstance(value, list):
        for item in value:
            yield from ids_in(item, depth - 1)


async def audit_call(
    ctx: Context[Any, Any] | None,
    *,
    kind: Literal["tool", "resource"],
    name: str,
    ids: list[str],
    error: BaseException | None,
    started: float,
    started_at: datetime,
) -> None:
    """Have the service record a finished call (shielded from cancellation; never raises).

    Args:
        ctx: the request's context; nothing is recorded without an mcp-memory ``AppState`` or a principal.
        kind, name, ids, error: see ``AuditService.record``.
        started: ``time.perf_counter()`` at the start of the call.
        started_at: the wall-clock time (UTC) at the start of the call.
    """
    duration_ms = (time.perf_counter() - started) * 1000.0
    state = _app_state(ctx)
    if state is None or ctx is None:
        return
    try:
        principal = state.principal_of(ctx)
    except ToolError:
        return  # unauthenticated: the call never ran as anyone
    with anyio.CancelScope(shield=True):
        await state.service.audit.record(
            principal.agent,
            kind=kind,
            name=name,
            ids=ids,
            error=error,
            duration_ms=duration_ms,
            at=started_at,
        )


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Audit the call and turn ``StorageError`` and validation errors into ``ToolError`` messages.

    Every tool carries this decorator (under ``@server.tool``), so every tool call is audited once; see
    the module docstring for what a record holds.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = next((a for a in (*args, *kwargs.values()) if isinstance(a, Context)), None)
        named = [v for k, v in kwargs.items() if isinstance(v, str) and (k == "id" or k.endswith("_id"))]
        started, started_at = time.perf_counter(), utc_now()
        error: BaseException | None = None
        result: Any = None
        try:
            result = await _run(fn, *args, **kwargs)
            return result  # type: ignore[no-any-return]
        except BaseException as exc:
            error = exc
            raise
        finally:
            await audit_call(
                ctx,
                kind="tool",
                name=fn.__name__,
                ids=[*named, *ids_in(result)],
                error=error,
                started=started,
                started_at=started_at,
            )

    wrapper.__audited__ = True  # type: ignore[attr-defined]  # checked by the tool contract tests
    return wrapper


async def _run(fn: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call a tool function, turning domain and validation errors into ``ToolError`` messages."""
    try:
        return await fn(*args, **kwargs)
    except StorageError as exc:
        raise ToolError(f"{type(exc).__name__.removesuffix('Error')}: {exc.message}") from exc
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}" for err in exc.errors()
        )
        raise ToolError(f"InvalidInput: {details}") from exc
