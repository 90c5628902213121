"""Encryption at rest of confidential content, applied by the service around every store call.

Rules (see ``docs/security.md``):

- A confidential memory or event is written with its content sealed (AES-256-GCM, the tenant's
  ``encryption_key``), and so is a confidential fact's value (in the facts table, the change log and
  escalation packages); without a key such a write is refused (``InvalidInputError``) and nothing is
  written. Public and internal content is stored as plain text.
- Text that often carries customer data whatever its label: task titles and descriptions, alert
  messages and escalation reasons, is sealed whenever the tenant has a key (stored plain without one).
- The embedding is computed from the plain text before sealing, so confidential items stay searchable by
  meaning; the store leaves sealed text out of its lexical index (``storage.text.lexical_text``).
- Everything the service returns is opened again: every public service method's result passes through
  ``reveal`` (``AuditedArea``), so memories, events, facts, tasks, alerts, escalations, pages, hits and
  packages never reach a caller sealed. Sealed content that cannot be opened (no key, wrong key, tampered) raises
  ``PermissionDeniedError`` with a message saying so: never ciphertext, never garbage.
- A store remembers a check value sealed with its key (meta ``encryption_key_check``): a server started
  with another key is refused at start (``ConfigError`` naming ``encryption_key``).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from mcp_memory.config import ConfigError, Settings
from mcp_memory.crypto import SEALED_PREFIX, CipherError, ContentCipher
from mcp_memory.services.results import EscalationSummary
from storage import InvalidInputError, MetaStore, PermissionDeniedError
from storage.models import (
    Alert,
    Escalation,
    Event,
    Fact,
    FactChange,
    InboxItem,
    Memory,
    Sensitivity,
    TaskRecord,
)

__all__ = ["KEY_CHECK_META", "ContentSealer"]

#: Meta key holding a text sealed with the tenant's key, to recognise a wrong key at start.
KEY_CHECK_META = "encryption_key_check"
_KEY_CHECK_TEXT = "mcp-memory encryption key check"

T = TypeVar("T")


class ContentSealer:
    """Seals confidential content on the way in and opens it on the way out."""

    def __init__(self, cipher: ContentCipher | None) -> None:
        self._cipher = cipher

    @classmethod
    def from_settings(cls, settings: Settings) -> ContentSealer:
        """The sealer of ``settings.encryption_key`` (none when unset).

        Raises:
            ConfigError: the key is not base64 of 32 bytes.
        """
        if settings.encryption_key is None:
            return cls(None)
        try:
            return cls(ContentCipher(settings.encryption_key.get_secret_value()))
        except CipherError as exc:
            raise ConfigError(f"encryption_key: {exc}") from None

    async def bind(self, store: MetaStore) -> None:
        """Check the key against the store's check value, recording one on first use.

        Raises:
            ConfigError: the store's confidential content was sealed with another key.
        """
        if self._cipher is None:
            return
        recorded = await store.get_meta(KEY_CHECK_META)
        if recorded is None:
            await store.set_meta(KEY_CHECK_META, self._cipher.seal(_KEY_CHECK_TEXT, kind="key-check"))
            return
        try:
            self._cipher.open(recorded, kind="key-check")
        except CipherError:
            raise ConfigError(
                "encryption_key: this is not the key this tenant's confidential content was sealed with; "
                "set MCP_MEMORY_ENCRYPTION_KEY to the tenant's key"
            ) from None

    def seal(self, content: str, sensitivity: Sensitivity, *, kind: Literal["memory", "event"]) -> str:
        """The content to store: sealed when confidential, else unchanged.

        Raises:
            InvalidInputError: confidential content but no ``encryption_key`` is configured.
        """
        if sensitivity is not Sensitivity.CONFIDENTIAL:
            return content
        return self._require().seal(content, kind=kind)

    def seal_value(self, value: Any, sensitivity: Sensitivity) -> Any:
        """A fact's value to store: when confidential, its JSON text sealed (a JSON string), else unchanged.

        Raises:
            InvalidInputError: a confidential value but no ``encryption_key`` is configured.
        """
        if sensitivity is not Sensitivity.CONFIDENTIAL:
            return value
        return self._require().seal(json.dumps(value, ensure_ascii=False), kind="fact")

    def seal_text(self, text: str, *, kind: Literal["task", "alert", "escalation"]) -> str:
        """Free text of a task, alert or escalation: sealed when the tenant has a key, else unchanged."""
        return text if self._cipher is None or not text else self._cipher.seal(text, kind=kind)

    def _require(self) -> ContentCipher:
        if self._cipher is None:
            raise InvalidInputError(
                "confidential content is encrypted at rest, but this server has no encryption_key "
                "(operator: set MCP_MEMORY_ENCRYPTION_KEY); store it as internal or ask an operator"
            )
        return self._cipher

    def _open(self, text: str, *, kind: str, item_id: str) -> str:
        if not text.startswith(SEALED_PREFIX):
            return text
        if self._cipher is None:
            raise PermissionDeniedError(
                f"the content of {kind} {item_id} is encrypted and this server has no encryption_key: "
                "an operator must configure the tenant's key"
            )
        try:
            return self._cipher.open(text, kind=kind)
        except CipherError:
            raise PermissionDeniedError(
                f"the content of {kind} {item_id} cannot be decrypted with this server's encryption_key "
                "(wrong key or tampered data)"
            ) from None

    def reveal(self, value: T) -> T:
        """``value`` with every ``Memory`` and ``Event`` inside it (pages, hits, packages...) opened.

        Raises:
            PermissionDeniedError: a sealed content cannot be opened (no key, wrong key, tampered).
        """
        return _walk(value, self)  # type: ignore[no-any-return]


#: Record type -> (AAD kind, the text fields sealed in it, the id field named in errors).
_SEALED_TEXT: dict[type[BaseModel], tuple[str, tuple[str, ...], str]] = {
    Memory: ("memory", ("content",), "memory_id"),
    Event: ("event", ("content",), "event_id"),
    TaskRecord: ("task", ("title", "description"), "task_id"),
    Alert: ("alert", ("message",), "alert_id"),
    InboxItem: ("alert", ("message",), "alert_id"),
    Escalation: ("escalation", ("reason",), "escalation_id"),
    EscalationSummary: ("escalation", ("reason",), "escalation_id"),
}


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def _open_record(value: BaseModel, sealer: ContentSealer) -> BaseModel:
    """``value`` with its own sealed fields opened (``_SEALED_TEXT``, a fact's value)."""
    changes: dict[str, Any] = {}
    spec = _SEALED_TEXT.get(type(value))
    if spec is not None:
        kind, fields, id_field = spec
        for name in fields:
            text = getattr(value, name)
            if _sealed(text):
                changes[name] = sealer._open(text, kind=kind, item_id=str(getattr(value, id_field)))
    if isinstance(value, Fact | FactChange) and _sealed(value.value):
        name = f"{value.namespace}/{value.key}"
        changes["value"] = json.loads(sealer._open(value.value, kind="fact", item_id=name))
    return value.model_copy(update=changes) if changes else value


def _walk(value: Any, sealer: ContentSealer) -> Any:
    if isinstance(value, BaseModel):
        opened_self = _open_record(value, sealer)
        changes = {}
        for name in type(opened_self).model_fields:
            current = getattr(opened_self, name)
            if not isinstance(current, BaseModel | list | dict):
                continue
            opened = _walk(current, sealer)
            if opened is not current:
                changes[name] = opened
        return opened_self.model_copy(update=changes) if changes else opened_self
    if isinstance(value, list):
        opened_items = [_walk(item, sealer) for item in value]
        if any(a is not b for a, b in zip(opened_items, value, strict=True)):
            return opened_items
        return value
    if isinstance(value, tuple):
        opened_tuple = tuple(_walk(item, sealer) for item in value)
        return opened_tuple if any(a is not b for a, b in zip(opened_tuple, value, strict=True)) else value
    return value
