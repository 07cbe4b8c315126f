"""Private notes at rest: AES-256-GCM, the key from ALLIANCE_ENCRYPTION_KEY."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
KEY_ID_LENGTH = 4
NONCE_LENGTH = 12


class KeyProblem(ValueError):
    """The configured key is missing or malformed."""


def generate_key() -> str:
    """32 random bytes, URL-safe base64: the form ALLIANCE_ENCRYPTION_KEY takes.
    Never one that starts with `-`, which a command line would read as an option."""
    while True:
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        if not key.startswith("-"):
            return key


def decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii") + b"=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise KeyProblem("ALLIANCE_ENCRYPTION_KEY is not URL-safe base64; make one with `alliance-bot keys generate`") from None
    if len(raw) != 32:
        raise KeyProblem("ALLIANCE_ENCRYPTION_KEY must be 32 bytes; make one with `alliance-bot keys generate`")
    return raw


@dataclass(frozen=True)
class NoteCipher:
    """Authenticated encryption for free text. The key's short id travels with each
    ciphertext, so a rotation can tell old from new."""

    key: bytes

    @classmethod
    def from_text(cls, text: str) -> "NoteCipher":
        return cls(decode_key(text))

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(b"alliance-key-id" + self.key).digest()[:KEY_ID_LENGTH]

    def encrypt(self, plaintext: str, context: bytes = b"note") -> bytes:
        nonce = os.urandom(NONCE_LENGTH)
        sealed = AESGCM(self.key).encrypt(nonce, plaintext.encode("utf-8"), VERSION + context)
        return VERSION + self.key_id + nonce + sealed

    def decrypt(self, blob: bytes, context: bytes = b"note") -> str:
        if blob[:1] != VERSION or blob[1 : 1 + KEY_ID_LENGTH] != self.key_id:
            raise KeyProblem("this note was sealed with another key")
        nonce = blob[1 + KEY_ID_LENGTH : 1 + KEY_ID_LENGTH + NONCE_LENGTH]
        try:
            return AESGCM(self.key).decrypt(nonce, blob[1 + KEY_ID_LENGTH + NONCE_LENGTH :], VERSION + context).decode("utf-8")
        except InvalidTag:
            raise KeyProblem("this note failed its integrity check") from None

    def owns(self, blob: bytes) -> bool:
        return blob[1 : 1 + KEY_ID_LENGTH] == self.key_id
