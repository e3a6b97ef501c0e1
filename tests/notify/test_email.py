"""The SMTP adapter against a real SMTP server (aiosmtpd on 127.0.0.1), plain and with TLS.

Certificates come from a private CA (trustme) that only the test client trusts.
"""

from __future__ import annotations

import csv
import email
import io
import socket
import ssl
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from ringwise.notify.email import (
    Attachment,
    EmailError,
    SmtpSettings,
    build_message,
    send_email,
)

HOST = "127.0.0.1"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SENDER = "reports@ringwise.test"
ANN, BOB = "ann@example.com", "bob@example.org"
PASSWORD = "s3cret-Pa55"
ROWS = [
    ["call_id", "phone", "outcome", "notes"],
    ["c1", "+14155550100", "answered", 'said "call back", later'],
    ["c2", "+33612345678", "voicemail", "línea 1\nlínea 2"],
]


# -- the server --------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool


@dataclass
class Recorder:
    """An aiosmtpd handler that stores what it receives and can refuse on demand."""

    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> reply
    data_reply: str = "250 OK"
    received: list[Received] = field(default_factory=list)
    mail_froms: list[str] = field(default_factory=list)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        self.mail_froms.append(address)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply.startswith("250"):
            assert server.transport is not None and envelope.mail_from is not None
            content = envelope.original_content or b""
            tls = server.transport.get_extra_info("ssl_object") is not None
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          content, tls))
        return self.data_reply


class NoAuthRecorder(Recorder):
    """Leaves AUTH out of its EHLO reply, like a relay that takes no logins."""

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]


@dataclass
class Authenticator:
    login: str = "reporter"
    password: str = PASSWORD
    echo: bool = False  # a careless server that quotes the password it got in its reply
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, login)

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = auth_data.login.decode()
        self.attempts.append((mechanism, login))
        given = auth_data.password.decode()
        ok = login == self.login and given == self.password
        # handled=False: aiosmtpd sends `message`, or its standard 535 reply, on failure.
        message = f"535 5.7.8 wrong password {given!r}" if self.echo and not ok else None
        return AuthResult(success=ok, handled=False, message=message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(handler: Recorder, **kwargs: Any) -> Iterator[int]:
    """A running aiosmtpd server on 127.0.0.1; yields its port."""
    controller = Controller(handler, hostname=HOST, port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def settings(port: int, **kwargs: Any) -> SmtpSettings:
    values: dict[str, Any] = {"host": HOST, "port": port, "security": "none",
                              "from_address": f"Ringwise Reports <{SENDER}>", "timeout_s": 5.0}
    values.update(kwargs)
    return SmtpSettings(**values)


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def report(config: SmtpSettings, to: list[str] | None = None) -> EmailMessage:
    return build_message(config, to or [ANN, BOB], "Weekly report: 2026-02-23 to 2026-03-01",
                         "Attached: this week's calls.\n",
                         [Attachment("calls-2026-03-01.csv", csv_bytes(ROWS))], now=NOW)


def parse(received: Received) -> EmailMessage:
    message = email.message_from_bytes(received.content, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


# -- plain delivery ----------------------------------------------------------------------------


def test_plain_send_with_a_csv_attachment(recorder: Recorder) -> None:
    with smtp_server(recorder) as port:
        config = settings(port)
        message = report(config)
        receipt = send_email(config, message)

    assert receipt.accepted == (ANN, BOB)
    assert receipt.refused == {}
    assert receipt.message_id == message["Message-ID"]
    [received] = recorder.received
    assert (received.mail_from, received.rcpt_tos, received.tls) == (SENDER, [ANN, BOB], False)

    parsed = parse(received)
    assert parsed["Subject"] == "Weekly report: 2026-02-23 to 2026-03-01"
    assert parsed["From"] == f"Ringwise Reports <{SENDER}>"
    assert parsed["To"] == f"{ANN}, {BOB}"
    assert parsed["Message-ID"] == receipt.message_id
    assert receipt.message_id.endswith("@ringwise.test>")
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content().splitlines() == [
        "Attached: this week's calls."]
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "calls-2026-03-01.csv"
    assert attachment.get_content_type() == "text/csv"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert list(csv.reader(io.StringIO(payload.decode("utf-8"), newline=""))) == ROWS


def test_two_messages_get_different_message_ids() -> None:
    config = settings(25)
    assert report(config)["Message-ID"] != report(config)["Message-ID"]


# -- TLS ---------------------------------------------------------------------------------------


def test_starttls(recorder: Recorder, server_tls: ssl.SSLContext,
                  client_tls: ssl.SSLContext) -> None:
    with smtp_server(recorder, tls_context=server_tls, require_starttls=True) as port:
        config = settings(port, security="starttls", ssl_context=client_tls)
        receipt = send_email(config, report(config))
    assert receipt.accepted == (ANN, BOB)
    [received] = recorder.received
    assert received.tls


def test_starttls_with_an_untrusted_certificate_fails_and_sends_nothing(
        recorder: Recorder, server_tls: ssl.SSLContext) -> None:
    stranger = ssl.create_default_context()
    trustme.CA().configure_trust(stranger)  # trusts some other CA only
    with smtp_server(recorder, tls_context=server_tls, require_starttls=True) as port:
        config = settings(port, security="starttls", ssl_context=stranger)
        with pytest.raises(EmailError, match="certificate") as caught:
            send_email(config, report(config))
    assert caught.value.retryable is False
    assert recorder.mail_froms == []


def test_starttls_not_offered_fails_and_sends_nothing(recorder: Recorder) -> None:
    with smtp_server(recorder) as port:  # no tls_context: no STARTTLS in EHLO
        config = settings(port, security="starttls")
        with pytest.raises(EmailError, match="does not offer STARTTLS") as caught:
            send_email(config, report(config))
    assert caught.value.retryable is False
    assert recorder.mail_froms == [] and recorder.received == []


def test_implicit_tls(recorder: Recorder, server_tls: ssl.SSLContext,
                      client_tls: ssl.SSLContext) -> None:
    with smtp_server(recorder, ssl_context=server_tls) as port:
        config = settings(port, security="tls", ssl_context=client_tls)
        receipt = send_email(config, report(config))
    assert receipt.accepted == (ANN, BOB)
    [received] = recorder.received
    assert received.tls


def test_clear_text_client_against_an_implicit_tls_server_fails(
        recorder: Recorder, server_tls: ssl.SSLContext) -> None:
    with smtp_server(recorder, ssl_context=server_tls) as port:
        config = settings(port, security="none", timeout_s=0.3)
        with pytest.raises(EmailError):
            send_email(config, report(config))
    assert recorder.received == []


# -- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_auth_success(mechanism: str, recorder: Recorder, server_tls: ssl.SSLContext,
                      client_tls: ssl.SSLContext) -> None:
    authenticator = Authenticator()
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    with smtp_server(recorder, tls_context=server_tls, require_starttls=True,
                     authenticator=authenticator, auth_required=True,
                     auth_exclude_mechanism=[other]) as port:
        config = settings(port, security="starttls", ssl_context=client_tls,
                          username="reporter", password=PASSWORD)
        receipt = send_email(config, report(config))
    assert receipt.accepted == (ANN, BOB)
    assert authenticator.attempts == [(mechanism, "reporter")]
    assert len(recorder.received) == 1


@pytest.mark.parametrize(("mechanism", "echo"), [("LOGIN", False), ("PLAIN", False),
                                                ("PLAIN", True)])
def test_auth_failure_is_not_retryable_and_hides_the_password(
        mechanism: str, echo: bool, recorder: Recorder, server_tls: ssl.SSLContext,
        client_tls: ssl.SSLContext) -> None:
    authenticator = Authenticator(password="the-right-one", echo=echo)
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    with smtp_server(recorder, tls_context=server_tls, require_starttls=True,
                     authenticator=authenticator, auth_required=True,
                     auth_exclude_mechanism=[other]) as port:
        config = settings(port, security="starttls", ssl_context=client_tls,
                          username="reporter", password=PASSWORD)
        with pytest.raises(EmailError, match="rejected the username or password") as caught:
            send_email(config, report(config))
    assert caught.value.retryable is False
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))
    assert authenticator.attempts == [(mechanism, "reporter")]
    assert recorder.mail_froms == []


def test_credentials_but_no_auth_offered(server_tls: ssl.SSLContext,
                                         client_tls: ssl.SSLContext) -> None:
    recorder = NoAuthRecorder()
    with smtp_server(recorder, tls_context=server_tls, require_starttls=True) as port:
        config = settings(port, security="starttls", ssl_context=client_tls,
                          username="reporter", password=PASSWORD)
        with pytest.raises(EmailError, match="does not offer AUTH") as caught:
            send_email(config, report(config))
    assert caught.value.retryable is False
    assert recorder.mail_froms == []


def test_no_auth_mechanism_in_common(recorder: Recorder, server_tls: ssl.SSLContext,
                                     client_tls: ssl.SSLContext) -> None:
    with smtp_server(recorder, tls_context=server_tls, require_starttls=True,
                     authenticator=Authenticator(), auth_required=True,
                     auth_exclude_mechanism=["LOGIN", "PLAIN"]) as port:
        config = settings(port, security="starttls", ssl_context=client_tls,
                          username="reporter", password=PASSWORD)
        with pytest.raises(EmailError, match="authentication method") as caught:
            send_email(config, report(config))
    assert caught.value.retryable is False
    assert recorder.mail_froms == []


# -- refusals ----------------------------------------------------------------------------------


def test_one_recipient_refused_is_listed(recorder: Recorder) -> None:
    recorder.refuse = {BOB: "550 5.1.1 no such user"}
    with smtp_server(recorder) as port:
        config = settings(port)
        receipt = send_email(config, report(config))
    assert receipt.accepted == (ANN,)
    assert receipt.refused == {BOB: (550, "5.1.1 no such user")}
    [received] = recorder.received
    assert received.rcpt_tos == [ANN]


@pytest.mark.parametrize(("reply", "retryable"), [
    ("550 5.1.1 no such user", False),
    ("450 4.2.1 mailbox busy, try later", True),
])
def test_every_recipient_refused(recorder: Recorder, reply: str, retryable: bool) -> None:
    recorder.refuse = {ANN: reply, BOB: reply}
    with smtp_server(recorder) as port:
        config = settings(port)
        with pytest.raises(EmailError, match="refused every recipient") as caught:
            send_email(config, report(config))
    assert caught.value.retryable is retryable
    assert ANN in str(caught.value) and BOB in str(caught.value)
    assert recorder.received == []


@pytest.mark.parametrize(("reply", "retryable"), [
    ("451 4.3.0 temporary local problem", True),
    ("554 5.6.0 message rejected", False),
])
def test_data_refused(recorder: Recorder, reply: str, retryable: bool) -> None:
    recorder.data_reply = reply
    with smtp_server(recorder) as port:
        config = settings(port)
        with pytest.raises(EmailError, match=reply.split()[0]) as caught:
            send_email(config, report(config))
    assert caught.value.retryable is retryable


# -- the server unreachable --------------------------------------------------------------------


def test_server_down_is_retryable() -> None:
    config = settings(free_port())  # nothing listens there any more
    with pytest.raises(EmailError, match=f"could not connect.*{HOST}") as caught:
        send_email(config, report(config))
    assert caught.value.retryable is True


def test_silent_server_times_out_and_is_retryable() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never greets
        listener.bind((HOST, 0))
        listener.listen()
        config = settings(listener.getsockname()[1], timeout_s=0.2)
        with pytest.raises(EmailError, match=r"did not answer within 0\.2 s") as caught:
            send_email(config, report(config))
    assert caught.value.retryable is True


# -- input checks ------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["Report\r\nBcc: evil@example.com", "Report\nX: y",
                                     "Report\r"])
def test_line_breaks_in_the_subject_are_refused(subject: str) -> None:
    with pytest.raises(ValueError, match="line breaks"):
        build_message(settings(25), [ANN], subject, "text", now=NOW)


@pytest.mark.parametrize("address", [f"{ANN}\r\nBcc: evil@example.com", f"{ANN}\n",
                                     f"{ANN}, {BOB}", "not-an-address", "ann@", "ann@localhost",
                                     "ánn@example.com"])
def test_bad_recipients_are_refused(address: str) -> None:
    with pytest.raises(ValueError):
        build_message(settings(25), [address], "Report", "text", now=NOW)


def test_message_argument_checks() -> None:
    config = settings(25)
    with pytest.raises(ValueError, match="list of addresses"):
        build_message(config, ANN, "Report", "text", now=NOW)
    with pytest.raises(ValueError, match="at least one recipient"):
        build_message(config, [], "Report", "text", now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_message(config, [ANN], "Report", "text", now=datetime(2026, 3, 2))
    message = build_message(config, [ANN, "Ann <ANN@example.com>", BOB], "R", "t", now=NOW)
    assert message["To"] == f"{ANN}, {BOB}"  # one copy per address


@pytest.mark.parametrize("make", [
    lambda: Attachment("calls\r\n.csv", b""),
    lambda: Attachment("../calls.csv", b""),
    lambda: Attachment("", b""),
    lambda: Attachment("calls.csv", "text"),  # type: ignore[arg-type]
    lambda: Attachment("calls.csv", b"", mime_type="text/csv\r\nX: y"),
    lambda: Attachment("calls.csv", b"", mime_type="csv"),
])
def test_bad_attachments_are_refused(make: Callable[[], Attachment]) -> None:
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(("changes", "message"), [
    ({"from_address": f"{SENDER}\r\nBcc: evil@example.com"}, "line breaks"),
    ({"from_address": "nobody"}, "e-mail address"),
    ({"host": ""}, "host"),
    ({"host": "mail.example.com\r\n"}, "host"),
    ({"port": 0}, "port"),
    ({"port": 70_000}, "port"),
    ({"port": True}, "port"),
    ({"security": "ssl"}, "security"),
    ({"username": "reporter"}, "both username and password"),
    ({"password": PASSWORD}, "both username and password"),
    ({"username": "", "password": PASSWORD, "security": "tls"}, "must not be empty"),
    ({"username": "reporter", "password": PASSWORD, "security": "none"}, "clear text"),
    ({"timeout_s": 0}, "timeout_s"),
    ({"timeout_s": float("nan")}, "timeout_s"),
])
def test_settings_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        settings(**{"port": 25, **changes})
    assert PASSWORD not in str(caught.value)


def test_settings_repr_hides_the_password() -> None:
    config = settings(465, security="tls", username="reporter", password=PASSWORD)
    assert PASSWORD not in repr(config) and PASSWORD not in str(config)
    assert "password='***'" in repr(config)
    assert SmtpSettings(host="mail.example.com", from_address=SENDER).port == 587
