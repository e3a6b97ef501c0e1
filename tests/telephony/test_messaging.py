"""The simulated SMS provider: part counts as carriers count them, refusals, idempotent ids."""

from __future__ import annotations

import pytest

from ringwise.telephony.messaging import SimulatedSms, SmsError, SmsRequest, segments


@pytest.mark.parametrize(("body", "parts"), [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("€" * 80, 1), ("€" * 81, 2),  # GSM-7 extension characters count twice
    ("é" * 160, 1),  # é is in the GSM-7 basic set
    ("ł" * 70, 1), ("ł" * 71, 2), ("ł" * 134, 2), ("ł" * 135, 3),  # UCS-2
])
def test_parts(body: str, parts: int) -> None:
    assert segments(body) == parts


def test_the_same_key_gets_the_same_id_and_bad_requests_are_refused() -> None:
    sms = SimulatedSms()
    request = SmsRequest("m-1", "+12125550199", "+12125550101", "Hi")
    assert sms.send_sms(request).provider_message_id == sms.send_sms(request).provider_message_id
    for bad in (SmsRequest("m-2", "+12125550199", "+1212", "Hi"),
                SmsRequest("m-3", "+12125550199", "+12125550101", "x" * 1531)):
        with pytest.raises(SmsError) as refused:
            sms.send_sms(bad)
        assert refused.value.retryable is False
    assert len(sms.sent) == 2
