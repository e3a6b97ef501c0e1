"""What an AI call must say: who is calling, how to opt out, how to call back.

47 CFR 64.1200(b)(1)-(2) (artificial or prerecorded voice messages, which FCC 24-17 extends to
AI-generated voices): state the identity of the business at the beginning of the message,
give a telephone number, and, for telemarketing, offer an automated opt-out. The dialer
passes every telemarketing opening through :func:`telemarketing_opening` and every voicemail
through :func:`with_callback`; text that already says it is left as written.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import phonenumbers

OPT_OUT_OFFER: Final = ("If you'd rather not get these calls, just say so and we'll add your "
                        "number to our do-not-call list.")
# Wording that already offers the opt-out (the assistant's own phrasing is kept).
_OPTS_OUT: Final = re.compile(r"do[- ]not[- ]call|opt[- ]out|stop (?:these|our|the) calls|"
                              r"not (?:to )?be called|rather not get these calls", re.I)
_DIGITS: Final = re.compile(r"\D")


def telemarketing_opening(opening: str, business: str) -> str:
    """``opening`` that names ``business`` first and offers the opt-out."""
    text = opening.strip()
    name = business.strip()
    if name and name.casefold() not in text.casefold():
        text = f"This is a call on behalf of {name}. {text}".strip()
    if not _OPTS_OUT.search(text):
        text = f"{text} {OPT_OUT_OFFER}".strip()
    return text


@lru_cache(maxsize=4096)  # (message, caller number) pairs in use: few, asked at every call
def with_callback(message: str | None, caller_e164: str) -> str | None:
    """A voicemail ``message`` that gives the number to call back (the caller id's)."""
    if message is None:
        return None
    try:
        number = phonenumbers.parse(caller_e164, None)
    except phonenumbers.NumberParseException:
        return message
    national = str(number.national_number)
    if national in _DIGITS.sub("", message):
        return message
    spoken = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{message.rstrip()} You can call us back at {spoken}."
