"""SSRF guard for customer-supplied webhook URLs.

``check_url`` parses and normalises a URL and refuses anything that could make the server call
into its own network: non-https schemes, credentials in the URL, internal host names, and hosts
for which ANY resolved address is private, loopback, link-local, multicast, reserved,
unspecified, shared (100.64.0.0/10), cloud metadata, or one of those wrapped in IPv6
(IPv4-mapped, 6to4, Teredo, NAT64).

DNS resolution is injected (``resolve(host, port) -> [ip, ...]``) so this module stays pure;
``system_resolver`` is the production implementation.

Checking at save time is not enough on its own: a name can resolve differently when the
delivery is made (DNS rebinding). The delivery client should connect to an address it has
checked with ``check_address`` and must not follow redirects.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

Resolver = Callable[[str, int], Sequence[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}
_METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, ...
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
})
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local")
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL_RE = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")


class DestinationError(ValueError):
    """The URL may not be used as a webhook destination; ``str(error)`` is field-ready."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``socket.getaddrinfo`` gives for ``host`` (production resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _blocked_kind(ip: IPAddress) -> str | None:
    """Why an address is not allowed, as a short noun phrase, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id is not None:
            return "a scoped (link-local) address"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            kind = _blocked_kind(inner)
            if kind is not None:
                return kind
            if ip.ipv4_mapped is not None:
                return None  # ::ffff:8.8.8.8 is just 8.8.8.8
    checks: tuple[tuple[bool, str], ...] = (
        (ip in _METADATA_ADDRESSES, "the cloud metadata address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private network address"),
        (not ip.is_global, "a non-public address"),
    )
    for blocked, kind in checks:
        if blocked:
            return kind
    return None


def check_address(address: str) -> None:
    """Raise ``DestinationError`` unless ``address`` (an IP string) is a public address.

    For the delivery client to re-check the address it actually connects to.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise DestinationError("Host did not resolve to a valid IP address.") from None
    kind = _blocked_kind(ip)
    if kind is not None:
        raise DestinationError(f"Address {ip} is {kind}, which is not allowed.")


def _normalise_name(host: str) -> str:
    """Lower-case ASCII (IDNA) form of a DNS name, without a trailing dot."""
    if host.endswith("."):
        host = host[:-1]
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise DestinationError("Host name is not valid.") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise DestinationError("Host name is not valid.")
    if _NUMERIC_LABEL_RE.fullmatch(labels[-1]):
        # Browsers and many resolvers read "127.1", "0x7f.1" or "2130706433" as IPv4 addresses.
        raise DestinationError("Host looks like an IP address but is not a valid one.")
    return ascii_host


def _parse_port(netloc: str, host_end: int) -> int | None:
    rest = netloc[host_end:]
    if not rest or rest == ":":
        return None
    if not rest.startswith(":") or not rest[1:].isascii() or not rest[1:].isdigit():
        raise DestinationError("Port must be a number from 1 to 65535.")
    port = int(rest[1:])
    if not 1 <= port <= 65535:
        raise DestinationError("Port must be a number from 1 to 65535.")
    return port


def check_url(url: str, *, resolve: Resolver, allow_private: bool = False) -> str:
    """The normalised URL, or ``DestinationError`` saying why it may not be used.

    ``allow_private`` (local development and tests only) also allows ``http`` and skips the
    host-name and address checks, and with them the DNS lookup.
    """
    if not url or len(url) > MAX_URL_LENGTH:
        raise DestinationError(f"URL must be 1 to {MAX_URL_LENGTH} characters long.")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise DestinationError("URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise DestinationError("URL is not valid.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_private):
        raise DestinationError("URL must start with https://.")
    netloc = parts.netloc
    if "@" in netloc:
        raise DestinationError("URL must not contain a user name or password.")
    if not netloc:
        raise DestinationError("URL must include a host.")

    literal: IPAddress | None = None
    if netloc.startswith("["):
        host_end = netloc.find("]") + 1
        if host_end == 0:
            raise DestinationError("IPv6 address in the URL is missing its closing ']'.")
        try:
            literal = ipaddress.IPv6Address(netloc[1 : host_end - 1])
        except ValueError:
            raise DestinationError("IPv6 address in the URL is not valid.") from None
        if literal.scope_id is not None and not allow_private:
            raise DestinationError("IPv6 address must not have a zone (%) suffix.")
        host_text = f"[{literal.compressed}]"
    else:
        host_end = netloc.rfind(":") if ":" in netloc else len(netloc)
        host = netloc[:host_end]
        if not host:
            raise DestinationError("URL must include a host.")
        try:
            literal = ipaddress.IPv4Address(host)
        except ValueError:
            literal = None
        host_text = str(literal) if literal is not None else _normalise_name(host)
    port = _parse_port(netloc, host_end)
    effective_port = port if port is not None else _DEFAULT_PORTS[scheme]

    if not allow_private:
        if literal is not None:
            kind = _blocked_kind(literal)
            if kind is not None:
                raise DestinationError(f"Host {literal} is {kind}, which is not allowed.")
        else:
            _check_name(host_text, effective_port, resolve)

    netloc_out = host_text if port in (None, _DEFAULT_PORTS[scheme]) else f"{host_text}:{port}"
    return urlunsplit((scheme, netloc_out, parts.path or "/", parts.query, ""))


def _check_name(name: str, port: int, resolve: Resolver) -> None:
    if name == "localhost" or name.endswith(_INTERNAL_SUFFIXES):
        raise DestinationError("Host name is internal and not reachable from the internet.")
    if "." not in name:
        raise DestinationError("Host must be a full domain name, such as hooks.example.com.")
    try:
        addresses = list(resolve(name, port))
    except (OSError, UnicodeError):
        raise DestinationError(f"Host {name} could not be resolved.") from None
    if not addresses:
        raise DestinationError(f"Host {name} did not resolve to any address.")
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise DestinationError(f"Host {name} did not resolve to a valid address.") from None
        kind = _blocked_kind(ip)
        if kind is not None:
            # The resolved address is not echoed: that would turn the form into a DNS oracle.
            raise DestinationError(f"Host {name} resolves to {kind}, which is not allowed.")
