"""Replies as compact JSON within ``limits.max_chars_per_response`` characters, write echoes included.

List tools already page to that budget (``services.results.fit_to_budget``); a single record can still
be long (a 20,000-character memory echoed by ``remember``, old metadata). ``fit_json`` shrinks a JSON value
until its compact text fits: first it cuts the longest strings to a common length, each ending with a
marker (``… [1234 more characters]``); only if that is not enough does it drop the last items of the
largest nested arrays and objects. Top-level fields are kept, so a reply still has every field its
output schema requires.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp_types import CallToolResult, TextContent

__all__ = ["MIN_KEPT_CHARS", "compact_json", "fit_json", "fit_resource", "fit_tool_result"]

#: A cut string keeps at least this many characters (then containers are trimmed instead).
MIN_KEPT_CHARS = 200

#: Room for a cut marker (``… [1234567 more characters]``) in the sums below.
_MARKER_CHARS = 32


def compact_json(value: Any) -> str:
    """``value`` as JSON without spaces or indentation (non-ASCII kept as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def fit_tool_result(result: CallToolResult, max_chars: int) -> CallToolResult:
    """``result`` with its structured content fitted to ``max_chars`` and its text the compact JSON of it.

    Error results and results without structured content are returned unchanged except that a text
    longer than ``max_chars`` is cut.
    """
    if result.is_error or result.structured_content is None:
        return result.model_copy(update={"content": [_cut_content(c, max_chars) for c in result.content]})
    fitted = fit_json(result.structured_content, max_chars)
    return result.model_copy(
        update={
            "structured_content": fitted,
            "content": [TextContent(type="text", text=compact_json(fitted))],
        }
    )


def fit_resource(contents: Iterable[ReadResourceContents], max_chars: int) -> list[ReadResourceContents]:
    """Resource contents with each JSON text fitted to ``max_chars`` (other text cut at ``max_chars``)."""
    fitted = []
    for item in contents:
        if isinstance(item.content, str) and len(item.content) > max_chars:
            if item.mime_type == "application/json":
                text = compact_json(fit_json(json.loads(item.content), max_chars))
            else:
                text = _cut(item.content, max_chars - _MARKER_CHARS)
            item = ReadResourceContents(content=text, mime_type=item.mime_type, meta=item.meta)
        fitted.append(item)
    return fitted


def _cut_content(content: Any, max_chars: int) -> Any:
    if isinstance(content, TextContent) and len(content.text) > max_chars:
        return content.model_copy(update={"text": _cut(content.text, max_chars - _MARKER_CHARS)})
    return content


def fit_json(value: Any, max_chars: int) -> Any:
    """A copy of ``value`` whose compact JSON has at most ``max_chars`` characters (``value`` if it fits).

    Strings are cut first (never below ``MIN_KEPT_CHARS``), then nested arrays and objects lose their
    last items, largest first; the top-level object keeps all its keys.
    """
    length = len(compact_json(value))
    for _ in range(4):  # escapes make a string's JSON longer than its text: a few rounds settle it
        if length <= max_chars:
            return value
        level = _cut_level(_string_lengths(value), length - max_chars)
        if level is None:
            break
        value = _cut_strings(value, level)
        length = len(compact_json(value))
    while length > max_chars and _drop_one(value, top=True):
        length = len(compact_json(value))
    return value


def _string_lengths(value: Any) -> list[int]:
    if isinstance(value, str):
        return [len(value)]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return [n for item in items for n in _string_lengths(item)]


def _cut_level(lengths: list[int], excess: int) -> int | None:
    """The longest kept length that saves ``excess`` characters when every longer string is cut to it
    (the level of a "water filling"), ``MIN_KEPT_CHARS`` when nothing longer would, ``None`` when even
    that saves nothing."""

    def saved(level: int) -> int:
        return sum(n - level - _MARKER_CHARS for n in lengths if n > level + _MARKER_CHARS)

    if saved(MIN_KEPT_CHARS) <= 0:
        return None
    low, high = MIN_KEPT_CHARS, max(lengths)
    while low < high:  # the largest level that still saves enough
        middle = (low + high + 1) // 2
        if saved(middle) >= excess:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(text: str, keep: int) -> str:
    return f"{text[:keep]}… [{len(text) - keep} more characters]"


def _cut_strings(value: Any, level: int) -> Any:
    if isinstance(value, str):
        return _cut(value, level) if len(value) > level + _MARKER_CHARS else value
    if isinstance(value, dict):
        return {k: _cut_strings(v, level) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_strings(v, level) for v in value]
    return value


def _drop_one(value: Any, *, top: bool = False) -> bool:
    """Shrink ``value`` in place by one item: a nested array loses its last item; an object passes the
    cut on to its largest non-empty container, else (nested only) loses its last key. False when nothing
    could be dropped (the top-level value's own keys and items are kept)."""
    if isinstance(value, list) and not top:
        if value:
            value.pop()
            return True
        return False
    children = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
    containers = sorted(
        (c for c in children if isinstance(c, dict | list) and c), key=lambda c: -len(compact_json(c))
    )
    if any(_drop_one(c) for c in containers):
        return True
    if top or not isinstance(value, dict) or not value:
        return False
    value.popitem()
    return True
