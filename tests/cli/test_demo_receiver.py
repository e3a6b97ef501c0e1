"""The quick start's webhook receiver checks freshness in real time, whatever the demo's
speed: at 3000x a delivery half a real second old is 25 virtual minutes old, and still fresh."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from ringwise.cli.demo_receiver import DemoReceiver
from ringwise.clock import ManualClock, ScaledClock
from ringwise.core.webhooks import signing
from tests.conftest import START

SECRET = "whsec_" + "AQEBAQEBAQEBAQEBAQEBAQEBAQEB"


@pytest.mark.parametrize(("speed", "fresh"), [(3000.0, True), (1.0, False)])
def test_freshness_is_five_real_minutes(speed: float, fresh: bool) -> None:
    base = ManualClock(START)
    clock = ScaledClock(speed, start=START, base=base)
    receiver = DemoReceiver(clock)
    receiver.secret = SECRET
    receiver.start()
    try:
        body = json.dumps({"type": "call.ended", "data": {}}).encode()
        stamped = int(clock.now().timestamp())
        headers = signing.headers([SECRET], "msg_1", stamped, body)
        # Half a real second at 3000x; 25 minutes (past the spec's five) at 1x.
        base.advance(timedelta(seconds=0.5) if speed > 1 else timedelta(minutes=25))
        response = httpx.post(receiver.url, content=body,
                              headers={**headers, "content-type": "application/json"})
        assert response.status_code == 204
    finally:
        receiver.stop()
    assert (receiver.events["call.ended"], receiver.bad_signatures) == \
        ((1, 0) if fresh else (0, 1))
