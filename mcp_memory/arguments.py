"""Strict tool arguments: no unknown parameter, and free-form JSON within size, depth and key caps.

The SDK accepts and silently drops an argument a tool does not declare: ``search_memory(task_id=...)``
would run unfiltered while the model believes the filter applied. The server's ``call_tool`` checks every
call here first (``check_arguments``), so a misspelt or invented parameter is a tool error naming the
accepted ones. Free-form JSON (``metadata``, ``properties``, a fact's ``value``: any argument that is an
object or an array, or whose schema leaves its type open) is capped by ``[limits]``: ``max_json_bytes``
(UTF-8 bytes of its compact JSON), ``max_json_depth`` (nesting of objects and arrays) and
``max_json_keys`` (object keys, counted at every level).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcp_memory.config import LimitSettings
from storage import InvalidInputError

__all__ = ["Parameters", "check_arguments", "json_shape"]


@dataclass(frozen=True)
class Parameters:
    """What one tool accepts: its parameter names (schema order) and those taking free-form JSON."""

    names: tuple[str, ...]
    free_form: frozenset[str]

    @classmethod
    def of(cls, input_schema: dict[str, Any]) -> Parameters:
        """The parameters declared by a tool's JSON input schema."""
        properties: dict[str, Any] = input_schema.get("properties", {})
        return cls(
            names=tuple(properties),
            free_form=frozenset(name for name, schema in properties.items() if _open_type(schema)),
        )


def _open_type(schema: Any) -> bool:
    """True when a parameter's schema leaves its type open (``Any``) or is an object without fields."""
    if not isinstance(schema, dict):
        return True
    alternatives = [s for s in schema.get("anyOf", [schema]) if s != {"type": "null"}]
    return any(
        isinstance(s, dict) and ("type" not in s or (s["type"] == "object" and "properties" not in s))
        for s in alternatives
    )


def check_arguments(
    tool: str, arguments: dict[str, Any], accepted: Parameters, limits: LimitSettings
) -> None:
    """Refuse unknown parameters and oversized free-form JSON in a call of ``tool``.

    Raises:
        InvalidInputError: an argument the tool does not declare (the message lists the accepted
            parameters), or a free-form value over a ``[limits]`` cap (the message names the cap).
    """
    unknown = sorted(set(arguments) - set(accepted.names))
    if unknown:
        raise InvalidInputError(
            f"{tool} has no parameter {_names(unknown)}; it accepts: {', '.join(accepted.names) or 'none'}"
        )
    for name, value in arguments.items():
        if value is not None and (name in accepted.free_form or isinstance(value, dict | list)):
            _check_json(tool, name, value, limits)


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _check_json(tool: str, name: str, value: Any, limits: LimitSettings) -> None:
    depth, keys = json_shape(value)
    if depth > limits.max_json_depth:
        raise InvalidInputError(
            f"{tool}: {name} nests {depth} levels deep, over the limit of {limits.max_json_depth}: flatten it"
        )
    if keys > limits.max_json_keys:
        raise InvalidInputError(
            f"{tool}: {name} has {keys} keys, over the limit of {limits.max_json_keys}: keep fewer keys"
        )
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    if size > limits.max_json_bytes:
        raise InvalidInputError(
            f"{tool}: {name} is {size} bytes of JSON, over the limit of {limits.max_json_bytes}: "
            "keep it small and put long text in the content"
        )


def json_shape(value: Any) -> tuple[int, int]:
    """``(depth, keys)`` of a JSON value: nesting of objects and arrays (a scalar is 0, ``{"a": 1}`` is
    1, ``[{"a": 1}]`` is 2) and the number of object keys at every level. Iterative: any depth is safe."""
    depth = keys = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            keys += len(item)
            pending.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, level + 1) for v in item)
        else:
            continue
        depth = max(depth, level + 1)
    return depth, keys
