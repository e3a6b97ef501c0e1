"""HTTP delivery of signed webhooks: one POST per attempt, pinned to an address that was checked.

The SSRF guard (``core.webhooks.destinations``) decides whether a URL may be called; this module
makes sure the request really goes where the guard looked:

* the host is resolved once, and the connection is made to that checked IP while the original
  name travels in the ``Host`` header and (https) in SNI, where TLS verifies the certificate
  against it. A second lookup could answer differently (DNS rebinding);
* redirects are never followed: a 3xx could point anywhere, including back inside;
* no proxy from the environment and no connection reuse: either would let a request leave on a
  connection that was not made (and verified) for this host.

Outcomes come from ``core.webhooks.retry.classify``; scheduling the next attempt is the caller's.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from ringwise.clock import Clock, SystemClock
from ringwise.core.webhooks import retry
from ringwise.core.webhooks.destinations import (
    DestinationError,
    Resolver,
    check_address,
    check_url,
    system_resolver,
)

USER_AGENT = "Ringwise-Webhooks/1"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_SNIPPET_BYTES = 4096
# httpx timeouts are per network operation, so a receiver trickling its body one byte at a time
# could hold a worker for hours; stop reading the body this long after the status arrived.
DEFAULT_BODY_DEADLINE_S = 10.0
# Other addresses of the host are tried only when a connection could not be opened at all
# (nothing was sent yet, so there is no risk of a duplicate delivery).
MAX_ADDRESSES = 3
_DEFAULT_PORTS = {"https": 443, "http": 80}
# Set by the sender only: a caller's Host could steer the request to another virtual host, and a
# caller's Content-Length / Transfer-Encoding could desynchronise the framing.
_OWN_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection",
    "user-agent", "content-type", "accept-encoding",
})


@dataclass(frozen=True)
class SendResult:
    """One delivery attempt, as the delivery log records it."""

    status_code: int | None
    outcome: retry.Outcome
    error: str | None
    duration_ms: int
    response_snippet: str = ""
    retry_after: timedelta | None = None


class _Unresolved(Exception):
    """The host name did not resolve right now: a transient failure, retried, not rejected."""


class _OnceResolver:
    """Remembers each answer so the SSRF check and the connection share one DNS lookup."""

    def __init__(self, resolve: Resolver) -> None:
        self._resolve = resolve
        self._answers: dict[tuple[str, int], list[str]] = {}
        self.unresolved = False

    def __call__(self, host: str, port: int) -> list[str]:
        key = (host, port)
        if key not in self._answers:
            try:
                answer = list(self._resolve(host, port))
            except (OSError, UnicodeError):
                self.unresolved = True
                raise
            self.unresolved = not answer
            self._answers[key] = answer
        return self._answers[key]


@dataclass(frozen=True)
class _Target:
    scheme: str
    host_header: str  # the normalised netloc: name (or literal) plus a non-default port
    sni_hostname: str | None  # None for IP literals: TLS then verifies the IP itself
    port: int
    path_query: tuple[str, str]
    addresses: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]

    def url_for(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
        host = f"[{ip.compressed}]" if ip.version == 6 else str(ip)
        path, query = self.path_query
        return urlunsplit((self.scheme, f"{host}:{self.port}", path, query, ""))


class WebhookSender:
    """Delivers one webhook attempt at a time; reuse one instance, and ``close()`` it."""

    def __init__(
        self,
        *,
        resolve: Resolver = system_resolver,
        allow_private: bool = False,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        body_deadline_s: float = DEFAULT_BODY_DEADLINE_S,
        verify: ssl.SSLContext | bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``allow_private`` is the operator's switch for local development (also allows http).

        ``verify`` is the TLS trust (an ``SSLContext`` for a private CA); ``clock`` turns a
        Retry-After HTTP-date into a delay; ``transport`` replaces the network (tests only).
        """
        self._resolve = resolve
        self._allow_private = allow_private
        self._body_deadline_s = body_deadline_s
        self._monotonic = monotonic
        self._clock: Clock = clock or SystemClock()
        if transport is None:
            transport = httpx.HTTPTransport(
                verify=verify,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0),
                retries=0,
            )
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """POST ``body`` to ``url`` with ``headers`` (the signature headers) once; never raises
        for network trouble or a refused destination: the result says what happened."""
        started = self._monotonic()
        try:
            target = self._target(url)
        except _Unresolved as exc:
            return self._result(started, None, str(exc))
        except DestinationError as exc:
            return self._result(started, None, str(exc), refused=True)

        request_headers = self._headers(headers, target.host_header)
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        connect_error: httpx.ConnectError | None = None
        for ip in target.addresses[:MAX_ADDRESSES]:
            try:
                request = self._client.build_request(
                    "POST", target.url_for(ip), content=body, headers=request_headers,
                    extensions=extensions,
                )
                response = self._client.send(request, stream=True)
            except httpx.ConnectError as exc:
                connect_error = exc
                continue
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                return self._result(started, None, _describe(exc))
            return self._finish(started, response)
        assert connect_error is not None  # addresses is never empty
        return self._result(started, None, _describe(connect_error))

    def _target(self, url: str) -> _Target:
        resolver = _OnceResolver(self._resolve)
        try:
            normalised = check_url(url, resolve=resolver, allow_private=self._allow_private)
        except DestinationError as exc:
            if resolver.unresolved:
                raise _Unresolved(str(exc)) from None
            raise
        parts = urlsplit(normalised)
        hostname = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        literal = _literal(hostname)
        if literal is not None:
            addresses = [literal]
            sni_hostname = None
        else:
            # check_url has looked the name up already unless allow_private; then this is the
            # one lookup. Either way the connection uses exactly these answers.
            try:
                answers = resolver(hostname, port)
            except (OSError, UnicodeError):
                raise _Unresolved(f"Host {hostname} could not be resolved.") from None
            if not answers:
                raise _Unresolved(f"Host {hostname} did not resolve to any address.")
            addresses = [_parse_address(answer) for answer in answers]
            sni_hostname = hostname
        if not self._allow_private:
            for ip in addresses:
                check_address(str(ip))  # defence in depth: these are the addresses we dial
        return _Target(
            scheme=parts.scheme,
            host_header=parts.netloc,
            sni_hostname=sni_hostname,
            port=port,
            path_query=(parts.path, parts.query),
            addresses=tuple(addresses),
        )

    def _headers(self, given: Mapping[str, str], host_header: str) -> dict[str, str]:
        merged = {name: value for name, value in given.items() if name.lower() not in _OWN_HEADERS}
        merged.update({
            "Host": host_header,
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            # No compression: the snippet cap must bound what we read, not what we inflate.
            "Accept-Encoding": "identity",
            "Connection": "close",
        })
        return merged

    def _finish(self, started: float, response: httpx.Response) -> SendResult:
        try:
            status = response.status_code
            delay = None
            if status in retry.RETRY_AFTER_STATUSES:
                delay = retry.retry_after(response.headers, now=self._clock.now())
            snippet, error = self._read_snippet(response)
        finally:
            response.close()
        return self._result(started, status, error, snippet=snippet, retry_after=delay)

    def _read_snippet(self, response: httpx.Response) -> tuple[str, str | None]:
        deadline = self._monotonic() + self._body_deadline_s
        data = bytearray()
        if response.is_stream_consumed:  # already read (a transport that buffers)
            return _snippet(response.content[:MAX_SNIPPET_BYTES]), None
        try:
            for chunk in response.iter_raw():
                data += chunk
                if len(data) >= MAX_SNIPPET_BYTES or self._monotonic() >= deadline:
                    break
        except httpx.HTTPError as exc:
            # The status already arrived and decides the outcome; keep what we have and why.
            return _snippet(data), _describe(exc)
        return _snippet(data), None

    def _result(
        self,
        started: float,
        status_code: int | None,
        error: str | None,
        *,
        refused: bool = False,
        snippet: str = "",
        retry_after: timedelta | None = None,
    ) -> SendResult:
        elapsed = max(self._monotonic() - started, 0.0)
        return SendResult(
            status_code=status_code,
            outcome=retry.classify(status_code, error, refused=refused),
            error=error,
            duration_ms=round(elapsed * 1000),
            response_snippet=snippet,
            retry_after=retry_after,
        )


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _parse_address(answer: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(answer)
    except ValueError:
        raise DestinationError("Host did not resolve to a valid IP address.") from None


def _snippet(data: bytes | bytearray) -> str:
    return bytes(data[:MAX_SNIPPET_BYTES]).decode("utf-8", errors="replace")


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

