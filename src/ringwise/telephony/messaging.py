"""Text messages: the port a provider implements, and the simulated provider.

The simulated provider is the default, like the simulated carrier: it accepts a message the
way a carrier's messaging API does (an ``SM...`` id, a segment count) and keeps what it
accepted, so the demo and tests can read it. Deterministic: the id is a hash of our message
id, so a retried request gets the same id.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from hashlib import blake2b
from typing import Final, Protocol

import phonenumbers

GSM_SEGMENT: Final = 153  # characters per part of a long GSM-7 message (160 for one part)
UCS2_SEGMENT: Final = 67  # ... of a long UCS-2 message (70 for one part)
MAX_SEGMENTS: Final = 10  # carriers refuse longer concatenated messages
_GSM7: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€")  # sent as two characters (escape + code)


@dataclass(frozen=True, slots=True)
class SmsRequest:
    """One text: ``key`` is our id of it (the provider's idempotency key when it has one)."""

    key: str
    from_number: str
    to_number: str
    body: str


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    provider_message_id: str
    segments: int


class SmsError(Exception):
    """The provider did not take the message. ``retryable``: the same request may succeed
    later (rate limit, outage); otherwise it never will (invalid number, body too long)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class SmsSender(Protocol):
    def send_sms(self, request: SmsRequest) -> SmsReceipt: ...


def segments(body: str) -> int:
    """How many parts a carrier splits ``body`` into (GSM-7 when it fits, else UCS-2)."""
    if set(body) <= _GSM7 | _GSM7_EXTENSION:
        single, multi = 160, GSM_SEGMENT
        length = len(body) + sum(1 for char in body if char in _GSM7_EXTENSION)
    else:
        single, multi, length = 70, UCS2_SEGMENT, len(body)
    return 1 if length <= single else -(-length // multi)


class SimulatedSms:
    """Accepts every well-formed text to a valid number; keeps them in ``sent``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[tuple[SmsRequest, SmsReceipt]] = []

    def send_sms(self, request: SmsRequest) -> SmsReceipt:
        for name, number in (("from", request.from_number), ("to", request.to_number)):
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse(number))
            except phonenumbers.NumberParseException:
                valid = False
            if not valid:
                raise SmsError(f"the '{name}' number {number} is not a valid phone number",
                               retryable=False)
        if not request.body.strip():
            raise SmsError("the message body is empty", retryable=False)
        parts = segments(request.body)
        if parts > MAX_SEGMENTS:
            raise SmsError(f"the message needs {parts} parts; at most {MAX_SEGMENTS} are "
                           "delivered", retryable=False)
        digest = blake2b(request.key.encode(), digest_size=16).hexdigest()
        receipt = SmsReceipt(provider_message_id=f"SM{digest}", segments=parts)
        with self._lock:
            self.sent.append((request, receipt))
        return receipt
