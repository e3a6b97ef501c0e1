"""Opt-out words in a text a contact sends back.

47 CFR 64.1200(a)(10) (FCC 24-24, 2024): revocation of consent by any reasonable means, and
"stop", "quit", "end", "revoke", "opt out", "cancel" or "unsubscribe" sent in reply to a text
is a valid one, to be honoured within 10 business days (Ringwise: at once). CTIA's messaging
guidelines add "stopall". Any of these words anywhere in the reply counts: a reply that is not
meant as an opt-out ("no end in sight") costs a contact; a missed opt-out is a violation.
"""

from __future__ import annotations

import re
from typing import Final

OPT_OUT_WORDS: Final = ("stop", "stopall", "quit", "end", "revoke", "cancel", "unsubscribe",
                        "optout")
_WORD: Final = re.compile(r"[^\W\d_]+")


def opt_out_word(text: str) -> str | None:
    """The first opt-out word of a reply ("opt out" and "opt-out" count as "opt out"), or
    None."""
    words = [w.casefold() for w in _WORD.findall(text)]
    for index, word in enumerate(words):
        if word == "opt" and index + 1 < len(words) and words[index + 1] == "out":
            return "opt out"
        if word in OPT_OUT_WORDS:
            return "opt out" if word == "optout" else word
    return None
