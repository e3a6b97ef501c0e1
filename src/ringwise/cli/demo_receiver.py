"""The quick start's webhook receiver: a local HTTP server that checks each delivery's
Standard Webhooks signature, as a customer's receiver would, and counts the events."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ringwise.clock import Clock
from ringwise.core.webhooks.signing import DEFAULT_TOLERANCE_S, SignatureError, verify


class DemoReceiver:
    def __init__(self, clock: Clock, host: str = "127.0.0.1") -> None:
        self.clock = clock
        # Deliveries are stamped in the demo's accelerated time: the spec's five minutes of
        # freshness are five real minutes, else a busy machine's few hundred milliseconds
        # between stamping and checking (at 3000x, minutes of virtual time) look stale.
        speed = max(1.0, float(getattr(clock, "speed", 1.0)))
        self.tolerance_s = int(DEFAULT_TOLERANCE_S * speed)
        self.secret: str | None = None
        self.events: Counter[str] = Counter()
        self.ids: set[str] = set()
        self.bad_signatures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.receive(dict(self.headers.items()), body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # the demo's console is for the campaign

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="ringwise-demo-receiver")

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def receive(self, headers: dict[str, str], body: bytes) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            try:
                if self.secret is None:
                    raise SignatureError("no secret yet")
                # Freshness against the demo's clock: deliveries are stamped in its time.
                verify([self.secret], lowered, body, int(self.clock.now().timestamp()),
                       tolerance_s=self.tolerance_s)
            except (SignatureError, ValueError):
                self.bad_signatures += 1
                return
            message_id = lowered.get("webhook-id", "")
            if message_id in self.ids:
                return  # a retry of an event already counted: at-least-once, deduplicated
            self.ids.add(message_id)
            self.events[str(json.loads(body).get("type"))] += 1

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
