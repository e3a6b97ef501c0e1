"""A real webhook receiver for tests: a stdlib HTTP server on 127.0.0.1 in a thread.

It records every request and answers what the test asks for: 200 (default), another status
(503, 410...) with optional headers, or it holds the request open until released (a sender
killed mid-request). It can be stopped (connections are refused) and started again on the
same port, so the endpoint's URL stays valid.

``verify_standard_webhook`` is an independent Standard Webhooks 1.0 verifier (hmac, hashlib
and base64 only), so the tests do not check the signing code against itself.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    answered: int | None  # None: held open, then dropped

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def timestamp(self) -> int:
        return int(self.headers["webhook-timestamp"])

    @property
    def signatures(self) -> list[str]:
        return self.headers["webhook-signature"].split()


def verify_standard_webhook(secret: str, request: Received) -> bool:
    """True when one ``v1`` entry of the signature header is the HMAC-SHA256, keyed with the
    base64-decoded part of ``whsec_...``, of ``{id}.{timestamp}.{body}``."""
    return any(signature_matches(secret, request, entry) for entry in request.signatures)


def signature_matches(secret: str, request: Received, entry: str) -> bool:
    version, _, value = entry.partition(",")
    if version != "v1":
        return False
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_"):])
    content = (request.headers["webhook-id"].encode() + b"." +
               request.headers["webhook-timestamp"].encode() + b"." + request.body)
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
    return hmac.compare_digest(expected, value.encode())


@dataclass
class _Behaviour:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, receiver: Receiver) -> None:
        self.receiver = receiver
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (killed on purpose) is not a failure


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        receiver = cast(_Server, self.server).receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        behaviour = receiver._next_behaviour()
        if behaviour.hold:
            receiver._record(Received(self.path, headers, body, None))
            receiver.release.wait(30)
            self.close_connection = True
            return  # the sender is gone: answer nothing
        receiver._record(Received(self.path, headers, body, behaviour.status))
        payload = b"ok" if behaviour.status < 300 else f"status {behaviour.status}".encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(behaviour.status)
            for name, value in behaviour.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        self.close_connection = True


class Receiver:
    """Start with ``start()`` (or use as a context manager); ``url`` is fixed once started."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.behaviour = _Behaviour()
        self._queued: list[_Behaviour] = []
        self.release = threading.Event()
        self.port = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self.port, "start the receiver first"
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen (again) on the same port as before, or on a free one the first time."""
        assert self._server is None
        deadline = time.monotonic() + 5
        while True:
            try:
                server = _Server(self.port, self)
                break
            except OSError:  # the old socket may linger for a moment after a stop
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.port = server.server_address[1]
        self.release.clear()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start()``."""
        server, self._server = self._server, None
        if server is None:
            return
        self.release.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def answer(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.behaviour = _Behaviour(status, dict(headers or {}))

    def answer_next(self, *statuses: int) -> None:
        """Answer the next requests with ``statuses``, in order, then as before."""
        with self._lock:
            self._queued.extend(_Behaviour(status) for status in statuses)

    def _next_behaviour(self) -> _Behaviour:
        with self._lock:
            return self._queued.pop(0) if self._queued else self.behaviour

    def hold(self) -> None:
        """Keep each request open, unanswered, until ``release`` is set (or the stop)."""
        self.release.clear()
        self.behaviour = _Behaviour(hold=True)

    def _record(self, request: Received) -> None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block (really) until ``count`` requests arrived in all."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} requests arrived, {count} expected")
            return list(self.requests)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def ids(self, *, answered: int | None = 200) -> set[str]:
        return {r.webhook_id for r in self.received() if r.answered == answered}
