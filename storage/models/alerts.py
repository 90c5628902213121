"""Records of alerts between agents: one alert, many recipients, one inbox per agent."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Alert", "AlertSeverity", "InboxItem", "NewAlert"]

AgentName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$")]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AlertSeverity(enum.StrEnum):
    """How urgent an alert is: ``info < warning < critical``."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class NewAlert(_Record):
    """An alert to deliver to the inboxes of ``to_agents`` (1-100 distinct agent names)."""

    sender: str = Field(min_length=1, max_length=128)
    to_agents: list[AgentName] = Field(min_length=1, max_length=100)
    message: str = Field(min_length=1, max_length=4_000)
    severity: AlertSeverity = AlertSeverity.INFO
    room_id: str | None = Field(default=None, max_length=128)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("to_agents")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class Alert(_Record):
    """A sent alert and its recipients (sorted)."""

    alert_id: str
    sender: str
    recipients: list[str]
    message: str
    severity: AlertSeverity
    room_id: str | None
    metadata: dict[str, Any]
    created_at: datetime


class InboxItem(_Record):
    """One alert as its recipient sees it; ``acked_at`` is set once the recipient acknowledged it."""

    alert_id: str
    sender: str
    message: str
    severity: AlertSeverity
    room_id: str | None
    metadata: dict[str, Any]
    created_at: datetime
    acked_at: datetime | None = None
