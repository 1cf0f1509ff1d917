"""Webhook secrets encrypted at rest under a server key, with key ids so the key can be rotated.

A shared module (no I/O, no clock) so that both the service (registering a webhook) and the
delivery workflow (signing with the secret) can use it without an upward import.

The webhook table must keep the secret itself (the server signs each delivery with it), so a
database dump alone must not reveal it. Each secret is sealed with AES-256-GCM under the current
server key; the token names the key id, and the row it belongs to is bound in as associated data
(a token copied onto another webhook row does not open there).

The setting ``SPACECOMMONS_SECRET_KEY`` is ``ID:KEY[,ID:KEY...]``: key ids of 1-16 letters, digits
or dashes, keys 32 random bytes in URL-safe base64 (:func:`new_key` makes one). The first entry
seals; every entry opens. Rotation: put a new key first, keep the old one after it, re-seal the
stored tokens with :meth:`SecretBox.reseal` (:meth:`SecretBox.needs_reseal` tells which), then drop
the old key.

Token layout (text, safe in any column): ``scb1.<key id>.<base64url(12-byte nonce || ciphertext+tag)>``,
associated data ``b"spacecommons-secret-v1|" + key id + b"|" + context``.
Reference: NIST SP 800-38D (GCM; 96-bit random nonces, at most 2**32 seals per key).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import SpacecommonsError

TOKEN_PREFIX = "scb1"
NONCE_BYTES = 12  # NIST SP 800-38D section 8.2.2: 96-bit random nonces
KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9-]{1,16}")
_AAD_LABEL = b"spacecommons-secret-v1|"


class SecretBoxError(SpacecommonsError):
    """A key setting that cannot be used, or a token that does not open (wrong key, context or bytes).
    The message never contains key material or plaintext."""


def new_key() -> str:
    """A fresh random key, URL-safe base64 of 32 bytes (for ``SPACECOMMONS_SECRET_KEY``)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_keys(setting: str) -> tuple[str, dict[str, bytes]]:
    """The current key id and all keys of a ``ID:KEY[,ID:KEY...]`` setting."""
    if not setting.strip():
        raise SecretBoxError("SPACECOMMONS_SECRET_KEY is not set: webhook secrets cannot be stored")
    keys: dict[str, bytes] = {}
    for n, entry in enumerate(setting.split(","), start=1):
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise SecretBoxError(f"SPACECOMMONS_SECRET_KEY entry {n}: expected ID:KEY with ID of 1-16 [A-Za-z0-9-]")
        if key_id in keys:
            raise SecretBoxError(f"SPACECOMMONS_SECRET_KEY entry {n}: key id {key_id!r} appears twice")
        try:
            key = _b64decode(encoded.strip())
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise SecretBoxError(f"SPACECOMMONS_SECRET_KEY entry {n} ({key_id}): the key must be 32 bytes in base64")
        keys[key_id] = key
    return next(iter(keys)), keys


class SecretBox:
    """Seals and opens short secrets under versioned server keys.

    >>> box = SecretBox.from_setting("k1:" + new_key())
    >>> token = box.seal("whsec-123", context="webhook:7")
    >>> token.startswith("scb1.k1."), box.open(token, context="webhook:7")
    (True, 'whsec-123')
    """

    def __init__(self, current: str, keys: Mapping[str, bytes]) -> None:
        if current not in keys:
            raise SecretBoxError(f"current key id {current!r} has no key")
        self.current = current
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}

    @classmethod
    def from_setting(cls, setting: str) -> SecretBox:
        """From ``SPACECOMMONS_SECRET_KEY`` (see the module docstring for the format)."""
        current, keys = parse_keys(setting)
        return cls(current, keys)

    @staticmethod
    def _aad(key_id: str, context: str) -> bytes:
        return _AAD_LABEL + key_id.encode() + b"|" + context.encode()

    def seal(self, plaintext: str, context: str) -> str:
        """``plaintext`` encrypted under the current key, bound to ``context`` (e.g. ``"webhook:42"``)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode(), self._aad(self.current, context))
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{TOKEN_PREFIX}.{self.current}.{body}"

    @staticmethod
    def key_id(token: str) -> str:
        """The id of the key a token was sealed with."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not _KEY_ID.fullmatch(parts[1]):
            raise SecretBoxError("not a sealed secret")
        return parts[1]

    def open(self, token: str, context: str) -> str:
        """The plaintext of ``token``; SecretBoxError if its key is gone, or it was altered or moved."""
        key_id = self.key_id(token)
        aead = self._aead.get(key_id)
        if aead is None:
            raise SecretBoxError(f"sealed with key {key_id!r}, which is not configured")
        try:
            raw = _b64decode(token.split(".")[2])
            if len(raw) < NONCE_BYTES + 16:
                raise ValueError("short")
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(key_id, context)).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise SecretBoxError("the sealed secret does not open: altered, or not for this record") from None

    def needs_reseal(self, token: str) -> bool:
        """True when ``token`` was sealed with a key other than the current one."""
        return self.key_id(token) != self.current

    def reseal(self, token: str, context: str) -> str:
        """``token`` sealed again under the current key (unchanged when it already is)."""
        if not self.needs_reseal(token):
            return token
        return self.seal(self.open(token, context), context)
