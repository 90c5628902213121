"""What every tool shares: finding the caller, and turning domain errors into MCP tool errors.

Error rule (python-sdk ``docs/servers/handling-errors.md``): a failure a smarter model could have avoided
(bad input, stale version, missing item, denied access) is a ``ToolError``: an ``is_error`` result whose
message says what to do next. Anything else is a crash the SDK reports without details.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import ValidationError

from mcp_memory.auth import Principal
from mcp_memory.services import Service
from storage import StorageError

__all__ = ["READ", "WRITE", "WRITE_IDEMPOTENT", "DESTRUCTIVE", "AppState", "caller", "tool_errors"]

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


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn ``StorageError`` and validation errors raised by the service into ``ToolError`` messages."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except StorageError as exc:
            raise ToolError(f"{type(exc).__name__.removesuffix('Error')}: {exc.message}") from exc
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}" for err in exc.errors()
            )
            raise ToolError(f"InvalidInput: {details}") from exc

    return wrapper
