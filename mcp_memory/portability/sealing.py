"""Confidential content inside exported rows: opened for a plain-text export, sealed again on import.

Sealed content (``mcp_memory.crypto``) is bound to its item kind, so a walker must know whether a
``content`` belongs to a memory or an event: any JSON object with a ``content`` string and a
``memory_id`` (a memory row, a memory record in the change log or a handoff package) is a memory's; one
with an ``event_id`` is an event's. The walk reaches every place content is copied to: the ``memories`` and
``events`` rows, the change log's ``before`` records and the escalations' frozen handoff packages.
"""

from __future__ import annotations

from typing import Any

from mcp_memory.crypto import SEALED_PREFIX, CipherError, ContentCipher

__all__ = ["has_confidential_plain", "open_contents", "seal_contents"]


def _kind(item: dict[str, Any]) -> str | None:
    if "event_id" in item:
        return "event"
    if "memory_id" in item:
        return "memory"
    return None


def open_contents(value: Any, cipher: ContentCipher) -> Any:
    """``value`` with every sealed content opened.

    Raises:
        CipherError: a sealed content cannot be opened with ``cipher`` (wrong key, tampered).
    """
    if isinstance(value, list):
        return [open_contents(item, cipher) for item in value]
    if not isinstance(value, dict):
        return value
    opened = {key: open_contents(item, cipher) for key, item in value.items()}
    content, kind = opened.get("content"), _kind(opened)
    if isinstance(content, str) and content.startswith(SEALED_PREFIX) and kind is not None:
        opened["content"] = cipher.open(content, kind=kind)
    return opened


def seal_contents(value: Any, cipher: ContentCipher | None) -> Any:
    """``value`` with every plain content of a confidential memory or event sealed with ``cipher``.

    Raises:
        CipherError: such content exists and ``cipher`` is ``None``.
    """
    if isinstance(value, list):
        return [seal_contents(item, cipher) for item in value]
    if not isinstance(value, dict):
        return value
    sealed = {key: seal_contents(item, cipher) for key, item in value.items()}
    content, kind = sealed.get("content"), _kind(sealed)
    if (
        isinstance(content, str)
        and not content.startswith(SEALED_PREFIX)
        and kind is not None
        and sealed.get("sensitivity") == "confidential"
    ):
        if cipher is None:
            raise CipherError(f"confidential {kind} content in plain text and no encryption_key to seal it")
        sealed["content"] = cipher.seal(content, kind=kind)
    return sealed


def has_confidential_plain(value: Any) -> bool:
    """True when ``value`` holds the plain content of a confidential memory or event."""
    try:
        seal_contents(value, None)
    except CipherError:
        return True
    return False
