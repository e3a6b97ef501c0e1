"""API key format: ``rw_live_`` + 30 random base62 characters + a 6-character CRC32 checksum.

The checksum lets secret scanners (and our own auth path) recognise a Ringwise key, or reject a
mistyped one, without a database lookup. Only the SHA-256 of a key is ever stored.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from dataclasses import dataclass

KEY_PREFIX = "rw_live_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_LEN = 30
_CHECKSUM_LEN = 6
KEY_LENGTH = len(KEY_PREFIX) + _RANDOM_LEN + _CHECKSUM_LEN
DISPLAY_PREFIX_LEN = len(KEY_PREFIX) + 4  # "rw_live_AbCd": enough to tell keys apart in a list


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), _CHECKSUM_LEN)


@dataclass(frozen=True, slots=True)
class NewKey:
    secret: str
    prefix: str
    hash: str


def generate_key() -> NewKey:
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LEN))
    secret = KEY_PREFIX + random_part + _checksum(random_part)
    return NewKey(secret=secret, prefix=secret[:DISPLAY_PREFIX_LEN], hash=hash_key(secret))


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_key(candidate: str) -> bool:
    """True when the string has the shape and a valid checksum of a Ringwise key."""
    if len(candidate) != KEY_LENGTH or not candidate.startswith(KEY_PREFIX):
        return False
    body = candidate[len(KEY_PREFIX):]
    random_part, checksum = body[:_RANDOM_LEN], body[_RANDOM_LEN:]
    if any(c not in _ALPHABET for c in body):
        return False
    return secrets.compare_digest(_checksum(random_part), checksum)
