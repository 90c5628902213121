"""Identity records: one person across channels and their addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models.common import _Record

__all__ = ["Address", "Identity"]


class Address(_Record):
    """A ``(channel_type, address)`` pair owned by exactly one identity (e.g. ``('sms', '+15551234')``)."""

    channel_type: str
    address: str
    identity_id: str
    created_at: datetime


class Identity(_Record):
    """One person across channels, with every address linked to them (oldest first)."""

    identity_id: str
    display_name: str | None
    metadata: dict[str, Any]
    addresses: list[Address]
    created_at: datetime
