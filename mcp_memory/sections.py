"""The config's plain sections: identities, limits, retention and pruning (no environment, no secrets).

Re-exported by ``mcp_memory.config``, which composes them into ``Settings``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storage.models import NAMESPACE_PATTERN

__all__ = ["IdentitySettings", "LimitSettings", "PruningSettings", "RetentionSettings"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentitySettings(_Section):
    """Who may see and change identities and their addresses (personal data).

    Identities live in one directory namespace: an agent reads them (``get_identity``, the customer in a
    handoff package, ``memory://identities/{id}``) when its ``read_namespaces`` match it, and resolves,
    links, unlinks or merges addresses when its ``write_namespaces`` match it too.
    """

    directory_namespace: str = Field(default="shared-directory", pattern=NAMESPACE_PATTERN)


class LimitSettings(_Section):
    """Caps that keep one reply from flooding an agent's context, and free-form input small.

    ``max_chars_per_response``: every tool reply and resource read, as compact JSON, at most this many
    characters (the longest strings are cut first, with a marker saying how much). ``max_json_bytes``,
    ``max_json_depth``, ``max_json_keys``: caps on each free-form JSON argument (``metadata``,
    ``properties``, a fact's ``value``...): UTF-8 bytes of its compact JSON, nesting levels of objects and
    arrays, object keys counted at every level (``mcp_memory.arguments``).
    """

    max_items_per_response: int = Field(default=50, ge=1, le=500)
    max_chars_per_response: int = Field(default=20_000, ge=1_000, le=1_000_000)
    handoff_event_limit: int = Field(default=50, ge=1, le=500)
    max_json_bytes: int = Field(default=8_192, ge=64, le=1_000_000)
    max_json_depth: int = Field(default=6, ge=1, le=64)
    max_json_keys: int = Field(default=128, ge=1, le=10_000)


class RetentionSettings(_Section):
    """Retention and decay of the namespaces matching one ``[retention."<pattern>"]`` table.

    ``max_memories``: keep at most this many (pruning removes the least important, then oldest, first).
    ``ttl_days``: prune memories older than this. ``decay``: lower old memories' search rank with an
    ``exponential`` or ``logarithmic`` curve of ``half_life_hours`` (formulas: ``storage/ranking.py``).
    """

    max_memories: int | None = Field(default=None, ge=0)
    ttl_days: float | None = Field(default=None, gt=0)
    decay: Literal["none", "exponential", "logarithmic"] = "none"
    half_life_hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check_decay(self) -> RetentionSettings:
        if self.decay != "none" and self.half_life_hours is None:
            raise ValueError(f"decay = {self.decay!r} needs half_life_hours")
        return self


class PruningSettings(_Section):
    """Background pruning by the server: every ``interval_seconds`` (0 turns it off)."""

    interval_seconds: float = Field(default=3600.0, ge=0)
