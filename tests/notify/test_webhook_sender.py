"""WebhookSender against a real local HTTP(S) server (stdlib, 127.0.0.1, a port of its own)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import pytest
import trustme

from ringwise.clock import ManualClock
from ringwise.core.webhooks import signing
from ringwise.notify.webhook_sender import MAX_SNIPPET_BYTES, USER_AGENT, WebhookSender

SECRET = signing.new_secret(bytes(range(32)))
TS = 1_772_463_600
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


Route = Callable[["_Handler"], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []
        self.connections = 0
        self.routes: dict[str, Route] = {}
        self.release = threading.Event()  # set at teardown: wakes handlers that stall on purpose

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on purpose (timeouts, capped reads) is not a failure


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def state(self) -> _Server:
        return cast(_Server, self.server)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.state.received.append(
            Received(self.command, self.path, list(self.headers.items()), body)
        )
        route = self.state.routes.get(urlsplit(self.path).path, ok)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            route(self)

    do_POST = _dispatch
    do_GET = _dispatch

    def reply(
        self, status: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def ok(handler: _Handler) -> None:
    handler.reply(200, b'{"ok":true}', [("Content-Type", "application/json")])


class LocalServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.httpd = _Server()
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port: int = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def url(self, path: str = "/hook", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    @property
    def received(self) -> list[Received]:
        return self.httpd.received

    def route(self, path: str, handler: Route) -> None:
        self.httpd.routes[path] = handler

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=2)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def sender() -> Iterator[WebhookSender]:
    with WebhookSender(allow_private=True, clock=ManualClock(NOW)) as s:
        yield s


class FakeResolver:
    """Answers from a table and counts lookups; unknown names fail like NXDOMAIN."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- delivery over a real connection -------------------------------------------------------


def test_body_and_signature_headers_arrive_byte_exact_and_verify(
    server: LocalServer, sender: WebhookSender
) -> None:
    body = '{"type":"call.completed","data":{"name":"Zoë","note":"a  b\\n"}}'.encode()
    sig_headers = signing.headers([SECRET], "msg_2fQ8", TS, body)

    result = sender.send(server.url("/hook?tenant=42"), body, sig_headers)

    assert result.outcome == "delivered"
    assert result.status_code == 200
    assert result.error is None
    assert result.response_snippet == '{"ok":true}'
    [got] = server.received
    assert (got.method, got.path) == ("POST", "/hook?tenant=42")
    assert got.body == body
    for name, value in sig_headers.items():
        assert got.header(name) == [value]
    assert got.header("User-Agent") == [USER_AGENT]
    assert got.header("Content-Type") == ["application/json"]
    assert got.header("Content-Length") == [str(len(body))]
    assert got.header("Accept-Encoding") == ["identity"]  # the snippet cap bounds raw bytes
    # The receiver's side of the contract: the signature verifies over what arrived.
    signing.verify([SECRET], dict(got.headers), got.body, now=TS + 3)


def test_caller_cannot_override_framing_or_host_headers(
    server: LocalServer, sender: WebhookSender
) -> None:
    body = b'{"n":1}'
    given = {
        "Host": "internal.example",
        "content-length": "1",
        "User-Agent": "curl/8",
        "X-Ringwise-Event": "call.completed",
    }

    result = sender.send(server.url(), body, given)

    assert result.outcome == "delivered"
    [got] = server.received
    assert got.body == body
    assert got.header("Host") == [f"127.0.0.1:{server.port}"]
    assert got.header("User-Agent") == [USER_AGENT]
    assert got.header("X-Ringwise-Event") == ["call.completed"]


def test_410_means_gone(server: LocalServer, sender: WebhookSender) -> None:
    server.route("/hook", lambda h: h.reply(410, b"endpoint removed"))

    result = sender.send(server.url(), b"{}", {})

    assert (result.outcome, result.status_code) == ("gone", 410)
    assert result.response_snippet == "endpoint removed"


def test_503_with_retry_after_seconds(server: LocalServer, sender: WebhookSender) -> None:
    server.route("/hook", lambda h: h.reply(503, b"busy", [("Retry-After", "120")]))

    result = sender.send(server.url(), b"{}", {})

    assert (result.outcome, result.status_code) == ("retry", 503)
    assert result.retry_after == timedelta(seconds=120)


def test_429_with_retry_after_date_uses_the_injected_clock(server: LocalServer) -> None:
    when = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    server.route("/hook", lambda h: h.reply(429, b"", [("Retry-After", when)]))

    with WebhookSender(allow_private=True, clock=ManualClock(NOW)) as sender:
        result = sender.send(server.url(), b"{}", {})

    assert (result.outcome, result.status_code) == ("retry", 429)
    assert result.retry_after == timedelta(seconds=90)


def test_retry_after_is_ignored_on_other_statuses(
    server: LocalServer, sender: WebhookSender
) -> None:
    server.route("/hook", lambda h: h.reply(500, b"", [("Retry-After", "120")]))

    result = sender.send(server.url(), b"{}", {})

    assert (result.outcome, result.status_code) == ("retry", 500)
    assert result.retry_after is None


def test_redirect_is_not_followed(server: LocalServer, sender: WebhookSender) -> None:
    server.route("/hook", lambda h: h.reply(302, b"", [("Location", server.url("/other"))]))
    server.route("/other", ok)

    result = sender.send(server.url(), b"{}", {})

    assert (result.outcome, result.status_code) == ("retry", 302)
    assert [r.path for r in server.received] == ["/hook"]


def test_slow_server_times_out_and_retries(server: LocalServer) -> None:
    def slow(h: _Handler) -> None:
        h.state.release.wait(2)
        ok(h)

    server.route("/hook", slow)

    started = time.monotonic()
    with WebhookSender(allow_private=True, timeout=httpx.Timeout(0.2)) as sender:
        result = sender.send(server.url(), b"{}", {})

    assert time.monotonic() - started < 1.0
    assert result.outcome == "retry"
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("ReadTimeout")
    assert len(server.received) == 1  # it did arrive; only the answer was too slow


def test_connection_refused_retries(sender: WebhookSender) -> None:
    result = sender.send(f"http://127.0.0.1:{free_port()}/hook", b"{}", {})

    assert result.outcome == "retry"
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("ConnectError")


def test_response_read_stops_at_the_snippet_cap(server: LocalServer, sender: WebhookSender) -> None:
    page = b"0123456789" * 1000

    def big_then_stall(h: _Handler) -> None:
        h.send_response(500)
        h.send_header("Content-Length", str(2 * len(page)))
        h.end_headers()
        h.wfile.write(page)
        h.state.release.wait(2)  # the rest would only come after 2 s: a full read would wait
        h.wfile.write(page)

    server.route("/hook", big_then_stall)

    started = time.monotonic()
    result = sender.send(server.url(), b"{}", {})

    assert time.monotonic() - started < 1.0
    assert result.status_code == 500
    assert result.response_snippet == page[:MAX_SNIPPET_BYTES].decode()


def test_trickling_body_is_cut_at_the_body_deadline(server: LocalServer) -> None:
    def trickle(h: _Handler) -> None:
        h.send_response(200)
        h.end_headers()
        for _ in range(100):  # 16 bytes every 20 ms: 2 s if read to the end
            h.wfile.write(b"x" * 16)
            if h.state.release.wait(0.02):
                return

    server.route("/hook", trickle)
    ticks = iter(range(10_000))  # every reading of the timer is one second later

    started = time.monotonic()
    with WebhookSender(
        allow_private=True, body_deadline_s=3, monotonic=lambda: float(next(ticks))
    ) as sender:
        result = sender.send(server.url(), b"{}", {})

    assert time.monotonic() - started < 1.0
    assert (result.outcome, result.status_code) == ("delivered", 200)
    assert 0 < len(result.response_snippet) < 100 * 16


def test_duration_comes_from_the_injected_timer(server: LocalServer) -> None:
    readings = iter([100.0])

    def timer() -> float:
        return next(readings, 100.25)

    with WebhookSender(allow_private=True, monotonic=timer) as sender:
        result = sender.send(server.url(), b"{}", {})

    assert result.outcome == "delivered"
    assert result.duration_ms == 250


# --- the SSRF guard -------------------------------------------------------------------------


def test_loopback_is_rejected_without_allow_private(server: LocalServer) -> None:
    with WebhookSender() as sender:
        result = sender.send(server.url(scheme="https"), b"{}", {})

    assert result.outcome == "rejected"
    assert result.status_code is None
    assert result.error is not None and "loopback" in result.error
    assert server.httpd.connections == 0
    assert server.received == []


def test_plain_http_is_rejected_without_allow_private(server: LocalServer) -> None:
    with WebhookSender() as sender:
        result = sender.send(server.url(), b"{}", {})

    assert result.outcome == "rejected"
    assert result.error is not None and "https" in result.error
    assert server.httpd.connections == 0


def test_name_resolving_to_a_private_address_is_rejected(server: LocalServer) -> None:
    resolver = FakeResolver({"hooks.example.com": ["127.0.0.1"]})

    with WebhookSender(resolve=resolver) as sender:
        url = server.url(host="hooks.example.com", scheme="https")
        result = sender.send(url, b"{}", {})

    assert result.outcome == "rejected"
    assert result.error is not None and "loopback" in result.error
    assert resolver.calls == [("hooks.example.com", server.port)]
    assert server.httpd.connections == 0


def test_connection_is_pinned_to_the_single_lookup(server: LocalServer) -> None:
    # hooks.example.test exists only in this resolver: a second, system lookup would fail.
    resolver = FakeResolver({"hooks.example.test": ["127.0.0.1"]})

    with WebhookSender(resolve=resolver, allow_private=True) as sender:
        result = sender.send(server.url(host="hooks.example.test"), b"{}", {})

    assert result.outcome == "delivered", result.error
    [got] = server.received
    assert got.header("Host") == [f"hooks.example.test:{server.port}"]
    assert resolver.calls == [("hooks.example.test", server.port)]


def test_next_checked_address_is_tried_when_the_first_refuses(server: LocalServer) -> None:
    # The server listens on 127.0.0.1 only, so 127.0.0.2 refuses the connection.
    resolver = FakeResolver({"hooks.example.test": ["127.0.0.2", "127.0.0.1"]})

    with WebhookSender(resolve=resolver, allow_private=True) as sender:
        result = sender.send(server.url(host="hooks.example.test"), b"{}", {})

    assert result.outcome == "delivered", result.error
    assert len(server.received) == 1
    assert len(resolver.calls) == 1


@pytest.mark.parametrize("allow_private", [False, True])
def test_dns_failure_is_retried_not_rejected(allow_private: bool) -> None:
    resolver = FakeResolver({})

    with WebhookSender(resolve=resolver, allow_private=allow_private) as sender:
        result = sender.send("https://hooks.example.com/hook", b"{}", {})

    assert result.outcome == "retry"
    assert result.error is not None and "could not be resolved" in result.error
    assert len(resolver.calls) == 1


# --- TLS: the pinned connection still verifies the real name --------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_server(ca: trustme.CA, name: str) -> LocalServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return LocalServer(tls=context)


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_https_pinned_to_the_ip_verifies_the_certificate_for_the_name(ca: trustme.CA) -> None:
    resolver = FakeResolver({"hooks.example.test": ["127.0.0.1"]})
    with (
        _tls_server(ca, "hooks.example.test") as srv,
        WebhookSender(resolve=resolver, allow_private=True, verify=_client_context(ca)) as sender,
    ):
        result = sender.send(srv.url(host="hooks.example.test", scheme="https"), b"{}", {})

        assert result.outcome == "delivered", result.error
        [got] = srv.received
        assert got.header("Host") == [f"hooks.example.test:{srv.port}"]


def test_https_certificate_for_another_name_fails(ca: trustme.CA) -> None:
    resolver = FakeResolver({"hooks.example.test": ["127.0.0.1"]})
    with (
        _tls_server(ca, "other.example.test") as srv,
        WebhookSender(resolve=resolver, allow_private=True, verify=_client_context(ca)) as sender,
    ):
        result = sender.send(srv.url(host="hooks.example.test", scheme="https"), b"{}", {})

        assert result.outcome == "retry"
        assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
        assert srv.received == []


# --- what goes on the wire for public destinations (no public network in tests) -------------


class _Body(httpx.SyncByteStream):
    """A not-yet-read body, as from the network (a plain ``content=`` is pre-read)."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"accepted"


class Capture:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(202, stream=_Body())


@pytest.mark.parametrize(
    ("url", "answers", "wire_url", "host_header"),
    [
        ("https://hooks.example.com/hook", [PUBLIC_V4],
         f"https://{PUBLIC_V4}/hook", "hooks.example.com"),
        ("https://Hooks.Example.com:8443/a?b=1", [PUBLIC_V4],
         f"https://{PUBLIC_V4}:8443/a?b=1", "hooks.example.com:8443"),
        ("https://hooks.example.com/hook", [PUBLIC_V6],
         f"https://[{PUBLIC_V6}]/hook", "hooks.example.com"),
    ],
)
def test_public_name_is_sent_to_the_checked_ip_with_host_and_sni(
    url: str, answers: list[str], wire_url: str, host_header: str
) -> None:
    resolver = FakeResolver({"hooks.example.com": answers})
    capture = Capture()

    with WebhookSender(resolve=resolver, transport=httpx.MockTransport(capture)) as sender:
        result = sender.send(url, b"{}", {})

    assert (result.outcome, result.response_snippet) == ("delivered", "accepted")
    [request] = capture.requests
    assert str(request.url) == wire_url
    assert request.headers["Host"] == host_header
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert len(resolver.calls) == 1


def test_public_ip_literal_needs_no_lookup_and_no_sni() -> None:
    resolver = FakeResolver({})
    capture = Capture()

    with WebhookSender(resolve=resolver, transport=httpx.MockTransport(capture)) as sender:
        result = sender.send(f"https://[{PUBLIC_V6}]/hook", b"{}", {})

    assert result.outcome == "delivered"
    [request] = capture.requests
    assert request.url.host == PUBLIC_V6
    assert request.headers["Host"] == f"[{PUBLIC_V6}]"
    assert "sni_hostname" not in request.extensions
    assert resolver.calls == []
