"""Records of the audit log: who called which tool or read which resource, on what, with what outcome.

The audit log is append-only: the store has no method that updates or deletes a record, and the
databases refuse ``UPDATE``/``DELETE`` on the table with a trigger (migration 0002).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from storage.models.common import UtcDatetime

__all__ = ["MAX_AUDIT_IDS", "AuditFilter", "AuditOutcome", "AuditRecord", "NewAuditRecord"]

#: Most ids one audit record keeps (the first ones touched, in order).
MAX_AUDIT_IDS = 64


class AuditOutcome(enum.StrEnum):
    """How a call ended: ``ok``, or ``error`` (``error_type`` names the error class)."""

    OK = "ok"
    ERROR = "error"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewAuditRecord(_Record):
    """One call to record.

    ``kind``: ``tool`` (``name`` is the tool's name) or ``resource`` (``name`` is the URI read).
    ``ids``: ids of the items the call named or returned (rooms, events, memories, tasks...).
    ``duration_ms``: wall time of the call in milliseconds. ``at``: when it started (default: now).
    """

    agent: str = Field(min_length=1, max_length=128)
    kind: Literal["tool", "resource"]
    name: str = Field(min_length=1, max_length=512)
    ids: list[str] = Field(default_factory=list, max_length=MAX_AUDIT_IDS)
    outcome: AuditOutcome
    error_type: str | None = Field(default=None, max_length=128)
    duration_ms: float = Field(ge=0)
    at: UtcDatetime | None = None


class AuditRecord(_Record):
    """A recorded call. ``seq`` grows with every record (1, 2, ...) and orders the log."""

    seq: int
    agent: str
    kind: Literal["tool", "resource"]
    name: str
    ids: list[str]
    outcome: AuditOutcome
    error_type: str | None
    duration_ms: float
    at: datetime


class AuditFilter(_Record):
    """Which records to list; every field narrows (AND). ``since``/``until``: half-open ``[since, until)``."""

    agent: str | None = None
    kind: Literal["tool", "resource"] | None = None
    name: str | None = None
    outcome: AuditOutcome | None = None
    item_id: str | None = Field(default=None, max_length=128)
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None

    def exact(self) -> dict[str, str]:
        """The set fields an audit record must equal: ``agent``, ``kind``, ``name``, ``outcome``.

        Keys are the fields' names, which are also the ``audit_log`` columns of both backends.
        """
        values = {"agent": self.agent, "kind": self.kind, "name": self.name, "outcome": self.outcome}
        return {column: str(value) for column, value in values.items() if value is not None}
