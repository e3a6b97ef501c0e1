"""Opt-out words in replies (47 CFR 64.1200(a)(10), CTIA's STOPALL)."""

from __future__ import annotations

import pytest

from ringwise.core.compliance.opt_out import opt_out_word


@pytest.mark.parametrize(("text", "word"), [
    ("STOP", "stop"), ("stop", "stop"), ("  Stop.  ", "stop"), ("STOP!!", "stop"),
    ("StopAll", "stopall"), ("quit", "quit"), ("END", "end"), ("Revoke", "revoke"),
    ("opt out", "opt out"), ("Opt-Out", "opt out"), ("OPTOUT", "opt out"),
    ("cancel", "cancel"), ("Unsubscribe me please", "unsubscribe"),
    ("Please stop texting me", "stop"), ("no thanks, cancel my renewal", "cancel"),
    ("Ya basta. STOP", "stop"),
])
def test_opt_out_words_anywhere_in_the_reply(text: str, word: str) -> None:
    assert opt_out_word(text) == word


@pytest.mark.parametrize("text", ["Thanks!", "yes please", "Call me at 5", "", "stopped",
                                  "unstoppable", "opted in", "optimal", "ok 👍"])
def test_other_replies_are_not_opt_outs(text: str) -> None:
    assert opt_out_word(text) is None
