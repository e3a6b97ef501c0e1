"""The identity, opt-out and call-back wording an AI call must carry."""

from __future__ import annotations

from ringwise.core.compliance.disclosures import (
    OPT_OUT_OFFER,
    telemarketing_opening,
    with_callback,
)


def test_a_telemarketing_opening_names_the_business_and_offers_the_opt_out() -> None:
    text = telemarketing_opening("Hi {{first_name}}, want a better rate?", "Acme Insurance")
    assert text.startswith("This is a call on behalf of Acme Insurance. Hi {{first_name}}")
    assert text.endswith(OPT_OUT_OFFER)


def test_an_opening_that_already_says_it_is_kept() -> None:
    opening = ("Hi, this is Ava from Acme Insurance. Say 'stop' any time to be put on our "
               "do-not-call list.")
    assert telemarketing_opening(opening, "acme insurance") == opening


def test_a_voicemail_gets_the_call_back_number_once() -> None:
    message = with_callback("Please call us back about your renewal.", "+12125550990")
    assert message == ("Please call us back about your renewal. You can call us back at "
                       "+1 212-555-0990.")
    assert with_callback(message, "+12125550990") == message
    assert with_callback("Call (212) 555-0990 today.", "+12125550990") == \
        "Call (212) 555-0990 today."
    assert with_callback(None, "+12125550990") is None
