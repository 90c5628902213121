"""Namespace patterns: names where ``*`` is the only wildcard (``shared-*``, ``agent-*-eu``).

A module of its own (it imports nothing from ``storage``) so that scopes (``storage.scope``) and ranking
(``storage.ranking``) share one matcher without an import cycle.
"""

from __future__ import annotations

__all__ = ["namespace_matches"]


def namespace_matches(pattern: str, namespace: str) -> bool:
    """True when ``namespace`` matches ``pattern``: ``*`` matches any run of characters, all else literally."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == namespace
    if not namespace.startswith(parts[0]) or not namespace.endswith(parts[-1]):
        return False
    pos = len(parts[0])
    end = len(namespace) - len(parts[-1])
    for middle in parts[1:-1]:
        found = namespace.find(middle, pos, end)
        if found < 0:
            return False
        pos = found + len(middle)
    return pos <= end
