"""Standard Webhooks 1.0 signatures (https://www.standardwebhooks.com/).

Every delivery carries three headers:

* ``webhook-id``: the message id, the same on every retry of one message;
* ``webhook-timestamp``: integer seconds since the Unix epoch when the attempt was signed;
* ``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` entries, one per secret.

The signed content is ``f"{msg_id}.{timestamp}."`` followed by the exact raw body bytes. A secret
is ``whsec_`` + base64 of the key; the HMAC key is the base64-decoded part. During rotation the
old and the new secret both sign, so a receiver that knows either one verifies.

Pure code: no clock (callers pass ``timestamp`` / ``now``) and no randomness (``new_secret``
takes the random bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 16
NEW_KEY_MIN_BYTES = 24
NEW_KEY_MAX_BYTES = 64
DEFAULT_TOLERANCE_S = 300
SIGNATURE_VERSION = "v1"

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"

# Ids we send go into a header and into the signed content, so keep them to a safe alphabet:
# no whitespace or CR/LF (header injection) and no "." (the separator of the signed content).
_SEND_ID_RE = re.compile(r"[A-Za-z0-9_\-]{1,255}")
_TIMESTAMP_RE = re.compile(r"[0-9]{1,15}")


class SignatureError(ValueError):
    """A delivery failed verification; ``str(error)`` says why."""


def new_secret(random_bytes: bytes) -> str:
    """``whsec_`` + base64 of the given key bytes (call with ``secrets.token_bytes(32)``)."""
    if not NEW_KEY_MIN_BYTES <= len(random_bytes) <= NEW_KEY_MAX_BYTES:
        raise ValueError(
            f"A webhook secret needs {NEW_KEY_MIN_BYTES} to {NEW_KEY_MAX_BYTES} random bytes, "
            f"got {len(random_bytes)}."
        )
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")


def parse_secret(text: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret. Messages never repeat the secret itself."""
    text = text.strip()
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(f"Webhook secret must start with {SECRET_PREFIX!r}.")
    encoded = text[len(SECRET_PREFIX):]
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError(
            f"Webhook secret is not valid base64 after the {SECRET_PREFIX!r} prefix."
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"Webhook secret key is too short: {len(key)} bytes, at least {MIN_KEY_BYTES} needed."
        )
    return key


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def _check_send_args(msg_id: str, timestamp: int) -> None:
    if not _SEND_ID_RE.fullmatch(msg_id):
        raise ValueError(
            "Webhook message id must be 1-255 characters of letters, digits, '_' or '-'."
        )
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("Webhook timestamp must be a non-negative integer of epoch seconds.")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """One ``v1,<base64>`` signature entry. A ``str`` body is signed as its UTF-8 bytes."""
    _check_send_args(msg_id, timestamp)
    digest = _digest(parse_secret(secret), msg_id, timestamp, _as_bytes(body))
    return f"{SIGNATURE_VERSION},{digest}"


def _secret_list(secrets_: Sequence[str]) -> list[str]:
    if isinstance(secrets_, str):
        # A bare str is a Sequence[str] of characters; that is always a caller bug.
        raise TypeError("Pass a sequence of secrets, not a single string.")
    if not secrets_:
        raise ValueError("At least one webhook secret is needed.")
    return list(secrets_)


def headers(
    secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes | str
) -> dict[str, str]:
    """The three Standard Webhooks headers, with one ``v1`` entry per secret (rotation)."""
    entries: list[str] = []
    for secret in _secret_list(secrets_):
        entry = sign(secret, msg_id, timestamp, body)
        if entry not in entries:
            entries.append(entry)
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: " ".join(entries),
    }


def _lower_headers(raw: Mapping[str, str]) -> dict[str, str]:
    lowered: dict[str, str] = {}
    for name, value in raw.items():
        key = name.lower()
        if key in lowered and lowered[key] != value:
            raise SignatureError(f"conflicting {key} headers")
        lowered[key] = value
    return lowered


def _required(lowered: Mapping[str, str], name: str) -> str:
    value = lowered.get(name, "").strip()
    if not value:
        raise SignatureError(f"missing {name} header")
    return value


def verify(
    secrets_: Sequence[str],
    headers: Mapping[str, str],
    body: bytes | str,
    now: int,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """Raise ``SignatureError`` unless the delivery is fresh and signed by one of ``secrets_``.

    Header names are case-insensitive. The timestamp must be within ``tolerance_s`` of ``now``
    in either direction. Any ``v1`` entry matching any secret is enough; other versions are
    ignored, as the spec asks. Bad configuration (no secrets, a malformed secret, a negative
    tolerance) raises a plain ``ValueError``/``TypeError`` instead: it is not the sender's fault.
    """
    keys = [parse_secret(secret) for secret in _secret_list(secrets_)]
    if tolerance_s < 0:
        raise ValueError("tolerance_s must not be negative.")

    lowered = _lower_headers(headers)
    msg_id = _required(lowered, HEADER_ID)
    timestamp_text = _required(lowered, HEADER_TIMESTAMP)
    signature_text = _required(lowered, HEADER_SIGNATURE)

    if not _TIMESTAMP_RE.fullmatch(timestamp_text):
        raise SignatureError("invalid webhook-timestamp header")
    timestamp = int(timestamp_text)
    if now - timestamp > tolerance_s:
        raise SignatureError("timestamp too old")
    if timestamp - now > tolerance_s:
        raise SignatureError("timestamp too far in the future")

    candidates: list[bytes] = []
    for entry in signature_text.split():
        version, sep, value = entry.partition(",")
        if sep and version == SIGNATURE_VERSION and value:
            candidates.append(value.encode("utf-8", errors="replace"))
    if not candidates:
        raise SignatureError("no v1 signature in webhook-signature header")

    raw_body = _as_bytes(body)
    matched = False
    for key in keys:
        expected = _digest(key, msg_id, timestamp, raw_body).encode("ascii")
        for candidate in candidates:
            # No early exit: constant-time per comparison, and every pair is compared.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no matching signature")
