"""Paging of list methods: page sizes, opaque cursors, sortable timestamps."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from storage.errors import InvalidInputError

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "clamp_limit", "decode_cursor", "encode_cursor", "isoformat"]

#: Default and maximum page sizes of list methods.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def encode_cursor(*key: Any) -> str:
    """Encode a sort key (e.g. ``(created_at_iso, id)``) as an opaque URL-safe cursor string."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """Decode a cursor made by ``encode_cursor``.

    Raises:
        InvalidInputError: the cursor is not one this store made (tampered, truncated, wrong listing).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            "cursor is not valid: pass back the next_cursor of the previous page"
        ) from exc
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidInputError("cursor is not valid: pass back the next_cursor of the previous page")
    return key


def clamp_limit(limit: int) -> int:
    """Bound a page size to ``1..MAX_PAGE_SIZE``."""
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def isoformat(value: datetime) -> str:
    """Fixed-width, sortable UTC text form of a timestamp (``2026-11-22T10:00:00.000000+00:00``)."""
    return value.isoformat(timespec="microseconds")
