"""Encryption at rest of confidential content, with the tenant's key (AES-256-GCM, ``cryptography``).

Sealed text has the form ``enc:v1:<base64url(nonce 12 bytes || ciphertext || tag 16 bytes)>``. The
associated data binds a ciphertext to its item kind (``memory`` or ``event``) so one cannot be swapped
for the other. What stays readable in the database without the key: ids, namespaces, kinds, tags,
metadata, timestamps, sensitivity, and the embedding vector (which leaks the gist of the text to anyone
who can run the same model: nearest-neighbour queries can recover the topic). Sealed content is not in
the lexical index, so confidential items are found by meaning (vector search) only.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.text import SEALED_PREFIX

__all__ = ["SEALED_PREFIX", "CipherError", "ContentCipher"]
_NONCE_BYTES = 12


class CipherError(Exception):
    """The key is malformed, or a sealed text cannot be opened with it (wrong key or tampered data)."""


class ContentCipher:
    """Seals and opens text with one 256-bit key."""

    def __init__(self, key_b64: str) -> None:
        """Create a cipher from base64 (standard or URL-safe) of exactly 32 bytes.

        Raises:
            CipherError: the key is not base64 of 32 bytes.
        """
        try:
            key = base64.urlsafe_b64decode(key_b64.strip().replace("+", "-").replace("/", "_") + "==")
        except (binascii.Error, ValueError) as exc:
            raise CipherError("encryption_key is not valid base64") from exc
        if len(key) != 32:
            raise CipherError(f"encryption_key must decode to 32 bytes, got {len(key)}")
        self._aead = AESGCM(key)

    @staticmethod
    def generate_key() -> str:
        """A fresh random key as URL-safe base64 (for ``MCP_MEMORY_ENCRYPTION_KEY``)."""
        return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()

    def seal(self, text: str, *, kind: str) -> str:
        """Encrypt ``text``; ``kind`` is authenticated as associated data."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), kind.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, text: str, *, kind: str) -> str:
        """Decrypt a sealed text (plain text passes through unchanged).

        Raises:
            CipherError: wrong key or tampered ciphertext.
        """
        if not text.startswith(SEALED_PREFIX):
            return text
        try:
            raw = base64.urlsafe_b64decode(text[len(SEALED_PREFIX) :])
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], kind.encode())
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise CipherError(
                "cannot decrypt confidential content: wrong encryption_key or tampered data"
            ) from exc
        return plain.decode("utf-8")
