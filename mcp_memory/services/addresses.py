"""Normalisation of channel addresses, so one person's address always has one spelling.

Emails are trimmed and lowercased; phone-like channels (sms, whatsapp, voice, phone) keep a leading
``+`` and digits only (E.164 style); channel types are lowercase. Other channels are trimmed.
"""

from __future__ import annotations

import re

from storage import InvalidInputError

__all__ = ["normalize_address", "normalize_channel_type"]

_PHONE_CHANNELS = frozenset({"sms", "whatsapp", "voice", "phone", "mms", "signal"})
_CHANNEL_TYPE = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")


def normalize_channel_type(channel_type: str) -> str:
    """Lowercase and validate a channel type (``sms``, ``email``, ``web``, ``slack``...).

    Raises:
        InvalidInputError: not 1-32 characters of letters, digits, ``_ . -`` starting with a letter.
    """
    value = channel_type.strip().lower()
    if not _CHANNEL_TYPE.match(value):
        raise InvalidInputError(
            f"channel_type {channel_type!r} is not valid: use a short lowercase word such as 'sms' or 'email'"
        )
    return value


def normalize_address(channel_type: str, address: str) -> str:
    """Return the canonical spelling of ``address`` on ``channel_type``.

    Raises:
        InvalidInputError: the address is empty after normalisation, or an email without ``@``.
    """
    value = address.strip()
    if channel_type == "email":
        value = value.lower()
        if "@" not in value:
            raise InvalidInputError(f"email address {address!r} has no '@'")
    elif channel_type in _PHONE_CHANNELS:
        digits = re.sub(r"\D", "", value)
        value = ("+" if value.startswith("+") else "") + digits
    if not value.strip("+"):
        raise InvalidInputError(f"address {address!r} is empty for channel {channel_type!r}")
    return value
