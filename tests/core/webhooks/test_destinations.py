from __future__ import annotations

from collections.abc import Sequence

import pytest

from ringwise.core.webhooks.destinations import (
    DestinationError,
    check_address,
    check_url,
    system_resolver,
)

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class FakeResolver:
    """Answers from a table and records every lookup; unknown names fail like NXDOMAIN."""

    def __init__(self, table: dict[str, Sequence[str]] | None = None) -> None:
        self.table = dict(table or {})
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        if host not in self.table:
            raise OSError(f"no such host {host}")
        return self.table[host]


def public_resolver() -> FakeResolver:
    return FakeResolver({"hooks.example.com": [PUBLIC_V4, PUBLIC_V6]})


def refused(url: str, resolver: FakeResolver | None = None, *, allow_private: bool = False) -> str:
    with pytest.raises(DestinationError) as info:
        check_url(url, resolve=resolver or public_resolver(), allow_private=allow_private)
    return str(info.value)


# --- Accepted and normalised.

@pytest.mark.parametrize(("url", "expected"), [
    ("https://hooks.example.com/ringwise", "https://hooks.example.com/ringwise"),
    ("HTTPS://Hooks.Example.COM/Path?A=1", "https://hooks.example.com/Path?A=1"),
    ("https://hooks.example.com", "https://hooks.example.com/"),
    ("https://hooks.example.com:443/x", "https://hooks.example.com/x"),
    ("https://hooks.example.com:/x", "https://hooks.example.com/x"),
    ("https://hooks.example.com:8443/x", "https://hooks.example.com:8443/x"),
    ("https://hooks.example.com./x", "https://hooks.example.com/x"),
    ("https://hooks.example.com/x#frag", "https://hooks.example.com/x"),
])
def test_accepts_and_normalises(url: str, expected: str) -> None:
    assert check_url(url, resolve=public_resolver()) == expected


def test_resolver_gets_normalised_host_and_effective_port() -> None:
    resolver = public_resolver()
    check_url("https://HOOKS.example.com./a", resolve=resolver)
    check_url("https://hooks.example.com:8443/a", resolve=resolver)
    assert resolver.calls == [("hooks.example.com", 443), ("hooks.example.com", 8443)]


def test_idn_host_is_converted_to_punycode() -> None:
    resolver = FakeResolver({"xn--bcher-kva.example": [PUBLIC_V4]})
    assert check_url("https://bücher.example/", resolve=resolver) == (
        "https://xn--bcher-kva.example/"
    )


def test_public_ip_literals_are_checked_directly_without_dns() -> None:
    resolver = FakeResolver()
    assert check_url(f"https://{PUBLIC_V4}/h", resolve=resolver) == f"https://{PUBLIC_V4}/h"
    assert check_url("https://[2606:2800:21F:CB07:6820:80DA:AF6B:8B2C]:8443/h",
                     resolve=resolver) == f"https://[{PUBLIC_V6}]:8443/h"
    assert check_url("https://[::ffff:8.8.8.8]/", resolve=resolver) == "https://[::ffff:808:808]/"
    assert resolver.calls == []


# --- Scheme, userinfo, host, port.

@pytest.mark.parametrize("url", [
    "http://hooks.example.com/", "ftp://hooks.example.com/", "file:///etc/passwd",
    "gopher://hooks.example.com/", "hooks.example.com/path", "//hooks.example.com/",
    "javascript:alert(1)",
])
def test_requires_https(url: str) -> None:
    assert refused(url) == "URL must start with https://."


@pytest.mark.parametrize("url", [
    "https://user:pass@hooks.example.com/", "https://user@hooks.example.com/",
    "https://hooks.example.com@127.0.0.1/", "https://@hooks.example.com/",
])
def test_refuses_userinfo(url: str) -> None:
    assert refused(url) == "URL must not contain a user name or password."


@pytest.mark.parametrize("url", ["https://", "https:///path", "https://:443/"])
def test_requires_host(url: str) -> None:
    assert refused(url) == "URL must include a host."


@pytest.mark.parametrize("url", [
    "https://hooks.example.com:0/", "https://hooks.example.com:65536/",
    "https://hooks.example.com:99999999999/", "https://hooks.example.com:https/",
    "https://hooks.example.com:-1/", "https://hooks.example.com:\uff11\uff12/",
])
def test_port_range(url: str) -> None:
    assert refused(url) == "Port must be a number from 1 to 65535."


def test_port_boundaries_accepted() -> None:
    assert check_url("https://hooks.example.com:1/", resolve=public_resolver()).endswith(":1/")
    assert check_url("https://hooks.example.com:65535/", resolve=public_resolver()).endswith(
        ":65535/"
    )


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/a b", "https://hooks.example.com/\n", " https://hooks.example.com/",
    "https://hooks.exa\tmple.com/", "https://hooks.example.com/\x00",
])
def test_refuses_whitespace_and_control_characters(url: str) -> None:
    assert refused(url) == "URL must not contain spaces or control characters."


def test_refuses_empty_and_overlong() -> None:
    assert "1 to 2048 characters" in refused("")
    assert "1 to 2048 characters" in refused("https://hooks.example.com/" + "a" * 2048)


@pytest.mark.parametrize("url", [
    "https://hooks..example.com/", "https://-bad.example.com/", "https://hooks.example.com\\evil/",
    "https://ho%6fks.example.com/", "https://" + "a" * 64 + ".example.com/",
    "https://::1/",
])
def test_refuses_invalid_host_names(url: str) -> None:
    assert refused(url) == "Host name is not valid."


@pytest.mark.parametrize("url", [
    "https://[::1/", "https://[not-an-ip]/", "https://[127.0.0.1]/",
])
def test_refuses_malformed_ipv6_literals(url: str) -> None:
    message = refused(url)
    assert "IPv6" in message or message == "URL is not valid."


@pytest.mark.parametrize("host", ["127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1",
                                  "127.0.0.01", "1.2.3.0x4"])
def test_refuses_non_canonical_ip_forms(host: str) -> None:
    # Resolvers and HTTP clients read these as IPv4 addresses (127.0.0.1 and friends).
    assert refused(f"https://{host}/") == "Host looks like an IP address but is not a valid one."


# --- Internal names.

@pytest.mark.parametrize("host", [
    "localhost", "LOCALHOST", "localhost.", "api.localhost", "metadata.google.internal",
    "printer.local", "db.corp.internal",
])
def test_refuses_internal_names(host: str) -> None:
    resolver = FakeResolver({host.lower().rstrip("."): [PUBLIC_V4]})
    assert refused(f"https://{host}/", resolver) == (
        "Host name is internal and not reachable from the internet."
    )
    assert resolver.calls == []


def test_refuses_single_label_names() -> None:
    resolver = FakeResolver({"intranet": [PUBLIC_V4]})
    assert "full domain name" in refused("https://intranet/", resolver)


# --- Literal addresses.

@pytest.mark.parametrize(("host", "kind"), [
    ("127.0.0.1", "a loopback address"),
    ("10.1.2.3", "a private network address"),
    ("172.16.0.1", "a private network address"),
    ("192.168.1.1", "a private network address"),
    ("169.254.169.254", "the cloud metadata address"),
    ("169.254.1.1", "a link-local address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("100.127.255.254", "a shared (carrier-grade NAT) address"),
    ("0.0.0.0", "an unspecified address"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("[::1]", "a loopback address"),
    ("[::]", "an unspecified address"),
    ("[fe80::1]", "a link-local address"),
    ("[fc00::1]", "a private network address"),
    ("[fd12:3456::1]", "a private network address"),
    ("[ff02::1]", "a multicast address"),
    ("[::ffff:127.0.0.1]", "a loopback address"),
    ("[::ffff:10.0.0.1]", "a private network address"),
    ("[::ffff:169.254.169.254]", "the cloud metadata address"),
    ("[::ffff:100.64.0.1]", "a shared (carrier-grade NAT) address"),
    ("[fd00:ec2::254]", "the cloud metadata address"),
    ("[2002:7f00:1::]", "a loopback address"),  # 6to4 wrapping 127.0.0.1
    ("[64:ff9b::a9fe:a9fe]", "the cloud metadata address"),  # NAT64 of 169.254.169.254
])
def test_refuses_internal_literals(host: str, kind: str) -> None:
    resolver = FakeResolver()
    message = refused(f"https://{host}/", resolver)
    assert message.endswith(f" is {kind}, which is not allowed.")
    assert resolver.calls == []


def test_refuses_zoned_ipv6_literal() -> None:
    assert "zone" in refused("https://[fe80::1%25eth0]/")


# --- Resolved addresses.

@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "a loopback address"),
    ("10.0.0.5", "a private network address"),
    ("169.254.169.254", "the cloud metadata address"),
    ("100.100.100.200", "a shared (carrier-grade NAT) address"),
    ("::1", "a loopback address"),
    ("::ffff:192.168.0.1", "a private network address"),
    ("fe80::1%eth0", "a scoped (link-local) address"),
    ("0.0.0.0", "an unspecified address"),
])
def test_refuses_names_resolving_to_internal_addresses(address: str, kind: str) -> None:
    resolver = FakeResolver({"evil.example.net": [address]})
    message = refused("https://evil.example.net/", resolver)
    assert message == f"Host evil.example.net resolves to {kind}, which is not allowed."
    assert address not in message  # no DNS oracle


@pytest.mark.parametrize("answers", [
    [PUBLIC_V4, "10.0.0.1"],
    ["10.0.0.1", PUBLIC_V4],
    [PUBLIC_V4, PUBLIC_V6, "::1"],
    [PUBLIC_V6, "169.254.169.254"],
])
def test_rebinding_style_mixed_answers_are_refused(answers: list[str]) -> None:
    resolver = FakeResolver({"rebind.example.net": answers})
    assert "which is not allowed" in refused("https://rebind.example.net/", resolver)


def test_unresolvable_and_empty_and_garbage_answers() -> None:
    assert refused("https://nxdomain.example.net/", FakeResolver()) == (
        "Host nxdomain.example.net could not be resolved."
    )
    empty = FakeResolver({"empty.example.net": []})
    assert "did not resolve to any address" in refused("https://empty.example.net/", empty)
    junk = FakeResolver({"junk.example.net": ["not-an-ip"]})
    assert "did not resolve to a valid address" in refused("https://junk.example.net/", junk)


# --- allow_private (local development and tests).

@pytest.mark.parametrize(("url", "expected"), [
    ("http://localhost:8080/hook", "http://localhost:8080/hook"),
    ("http://127.0.0.1/hook", "http://127.0.0.1/hook"),
    ("http://127.0.0.1:80/hook", "http://127.0.0.1/hook"),
    ("https://[::1]:9000/", "https://[::1]:9000/"),
    ("http://receiver/hook", "http://receiver/hook"),
    ("http://api.internal/hook", "http://api.internal/hook"),
    ("https://10.0.0.5/", "https://10.0.0.5/"),
])
def test_allow_private_accepts_local_destinations(url: str, expected: str) -> None:
    resolver = FakeResolver()
    assert check_url(url, resolve=resolver, allow_private=True) == expected
    assert resolver.calls == []


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://localhost/", "URL must start with https://."),
    ("http://user:pw@localhost/", "URL must not contain a user name or password."),
    ("http://localhost:0/", "Port must be a number from 1 to 65535."),
    ("http:///x", "URL must include a host."),
])
def test_allow_private_still_checks_syntax(url: str, message: str) -> None:
    assert refused(url, allow_private=True) == message


# --- Helpers.

def test_check_address() -> None:
    check_address(PUBLIC_V4)
    check_address(PUBLIC_V6)
    check_address("::ffff:8.8.8.8")
    with pytest.raises(DestinationError, match="loopback"):
        check_address("127.0.0.1")
    with pytest.raises(DestinationError, match="valid IP"):
        check_address("example.com")


def test_system_resolver_handles_numeric_hosts_without_network() -> None:
    assert system_resolver("127.0.0.1", 443) == ["127.0.0.1"]


def test_destination_error_is_a_value_error() -> None:
    assert issubclass(DestinationError, ValueError)
