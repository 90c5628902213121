"""What a caller sees when a call fails: domain errors mapped to MCP errors, once, for tools and resources.

Rule (python-sdk ``docs/servers/handling-errors.md``): "could a smarter model have avoided this?"

- Yes (``NotFoundError``, ``ConflictError``, ``PermissionDeniedError``, ``InvalidInputError``, arguments or
  values that fail validation): a tool call returns an ``is_error`` result (``ToolError``) whose message
  says what went wrong and what to do, prefixed with the kind (``Conflict: task T-12 is at version 4, you
  sent 3: re-read it and retry``); a resource read gets a JSON-RPC error with that message
  (``-32602`` invalid params).
- No (``BackendUnavailableError``, ``SchemaVersionError``, any other ``StorageError``): a JSON-RPC error
  (``MCPError``, ``-32603`` internal error) for tools and resources alike, never a tool result; the
  message is the store's (written without SQL, DSN or stack trace, see ``storage/errors.py``) or, for
  an unclassified store failure, a fixed sentence; details go to the server log.

Anything else (a bug) is left to the SDK: the model sees only ``Error executing tool <name>`` and the
server logs the traceback.
"""

from __future__ import annotations

import logging

from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS
from pydantic import ValidationError

from storage import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    SchemaVersionError,
    StorageError,
)

__all__ = ["AVOIDABLE", "OUTAGES", "prompt_failure", "resource_failure", "tool_failure"]

logger = logging.getLogger("mcp_memory")

#: Domain errors the caller could have avoided: reported to the model so it can act.
AVOIDABLE: tuple[type[StorageError], ...] = (
    NotFoundError,
    ConflictError,
    PermissionDeniedError,
    InvalidInputError,
)

#: Store failures no caller could have avoided: protocol errors.
OUTAGES: tuple[type[StorageError], ...] = (BackendUnavailableError, SchemaVersionError)


def _kind(exc: BaseException) -> str:
    return type(exc).__name__.removesuffix("Error")


def _avoidable_message(cause: BaseException) -> str | None:
    """``Kind: message`` for an error the caller could have avoided, else ``None``."""
    if isinstance(cause, AVOIDABLE):
        return f"{_kind(cause)}: {cause.message}"
    if isinstance(cause, ValidationError):
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}" for err in cause.errors()
        )
        return f"InvalidInput: {details}"
    return None


def _outage(cause: StorageError, *, call: str) -> MCPError:
    """The protocol error of a store failure (the detail is logged, not sent when unclassified)."""
    logger.warning("%s failed: the store is unavailable: %s: %s", call, type(cause).__name__, cause.message)
    if isinstance(cause, OUTAGES):
        message = f"the memory store is unavailable ({_kind(cause)}): {cause.message}"
    else:
        message = "the memory store failed: retry later; the server log has the details"
    return MCPError(INTERNAL_ERROR, message, data={"error": _kind(cause)})


def tool_failure(cause: BaseException | None, *, tool: str) -> Exception | None:
    """The error a tool call that raised ``cause`` ends with, or ``None`` to leave the SDK's error as is.

    Args:
        cause: what the tool raised (``sdk_adapter.sdk_cause`` of the SDK's error), or ``None``.
        tool: the tool's name (for the log).

    Returns:
        ``ToolError`` (an ``is_error`` result) for an avoidable error, ``MCPError`` for a store failure.
    """
    if cause is None:
        return None
    message = _avoidable_message(cause)
    if message is not None:
        return ToolError(message)
    if isinstance(cause, StorageError):
        return _outage(cause, call=f"tool {tool}")
    return None


def resource_failure(cause: BaseException | None, *, uri: str) -> Exception | None:
    """The error a resource read that raised ``cause`` ends with, or ``None`` to leave the SDK's error.

    Returns:
        ``ResourceNotFoundError`` for a missing (or hidden) item, ``MCPError`` (invalid params) for another
        avoidable error, ``MCPError`` (internal error) for a store failure.
    """
    if cause is None:
        return None
    message = _avoidable_message(cause)
    if isinstance(cause, NotFoundError) and message is not None:
        return ResourceNotFoundError(message)
    if message is not None:
        return MCPError(INVALID_PARAMS, message, data={"uri": uri})
    if isinstance(cause, StorageError):
        return _outage(cause, call=f"read of {uri}")
    return None


def prompt_failure(cause: BaseException | None, *, prompt: str) -> Exception | None:
    """The error a ``prompts/get`` that raised ``cause`` ends with, or ``None`` to leave the SDK's error.

    Returns:
        ``MCPError`` (invalid params) naming the cause for an avoidable error (an unknown or hidden room),
        ``MCPError`` (internal error) for a store failure.
    """
    if cause is None:
        return None
    message = _avoidable_message(cause)
    if message is not None:
        return MCPError(INVALID_PARAMS, message, data={"prompt": prompt})
    if isinstance(cause, StorageError):
        return _outage(cause, call=f"prompt {prompt}")
    return None
