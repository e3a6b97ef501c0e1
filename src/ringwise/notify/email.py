"""Sending e-mail (scheduled reports and messages) through an SMTP server, with the standard
library.

``build_message`` makes the message (refusing header injection); ``send_email`` delivers it
and returns which recipients the server accepted. Every failure is an :class:`EmailError`
whose ``retryable`` says whether trying again later can help: connection problems, timeouts
and 4xx replies can; bad credentials, TLS/certificate problems and 5xx refusals cannot.

Security: ``starttls`` (default) upgrades the connection and fails if the server does not
offer STARTTLS, never falling back to clear text; ``tls`` is implicit TLS (SMTPS, port 465);
``none`` is clear text, allowed only without credentials. Passwords never appear in
``repr`` or in error messages.
"""

from __future__ import annotations

import math
import re
import smtplib
import ssl
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses
from typing import Any, Final, Literal

Security = Literal["none", "starttls", "tls"]
SECURITIES: Final = ("none", "starttls", "tls")

NO_SMTP: Final = "no SMTP server configured: PATCH /v1/settings with email"
_MIME_TYPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*/[A-Za-z0-9][A-Za-z0-9.+-]*")


class EmailError(Exception):
    """Sending failed; ``retryable`` says whether the same message may succeed later."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def _no_line_breaks(value: str, what: str) -> str:
    # A CR or LF in a header value would let the value start a new header (injection).
    if any(char in value for char in "\r\n\0"):
        raise ValueError(f"{what} must not contain line breaks or NUL characters")
    return value


def _address(value: str, what: str) -> Address:
    """One address, optionally with a display name ("Reports <reports@example.com>")."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    _no_line_breaks(value, what)
    try:
        header = default_policy.header_factory("To", value.strip())
        addresses = header.addresses
        defects = header.defects
    except Exception as exc:  # the header parser raises assorted errors on garbage
        raise ValueError(f"{what} '{value}' is not an e-mail address") from exc
    if len(addresses) != 1 or defects:
        raise ValueError(f"{what} '{value}' is not one e-mail address")
    address: Address = addresses[0]
    if not address.username or not address.domain or "." not in address.domain:
        raise ValueError(f"{what} '{value}' is not an e-mail address")
    if not address.addr_spec.isascii():
        # Would need SMTPUTF8 from every server on the way; refuse it up front instead.
        raise ValueError(f"{what} '{value}': internationalised addresses are not supported")
    return address


@dataclass(frozen=True, kw_only=True, repr=False)
class SmtpSettings:
    """How to reach the SMTP server. ``ssl_context`` defaults to the system's trust store."""

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = None
    from_address: str
    timeout_s: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host or \
                any(char.isspace() for char in self.host):
            raise ValueError("host must be a host name or IP address without spaces")
        if not isinstance(self.port, int) or isinstance(self.port, bool) or \
                not 1 <= self.port <= 65535:
            raise ValueError("port must be a whole number from 1 to 65535")
        if self.security not in SECURITIES:
            raise ValueError(f"security must be one of {', '.join(SECURITIES)}")
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        if self.username is not None:
            if not self.username or not self.password:
                raise ValueError("username and password must not be empty")
            _no_line_breaks(self.username, "username")
            if self.security == "none":
                raise ValueError("credentials need security 'starttls' or 'tls'; with 'none' "
                                 "the password would cross the network in clear text")
        _address(self.from_address, "from_address")
        if isinstance(self.timeout_s, bool) or not isinstance(self.timeout_s, int | float) \
                or not math.isfinite(self.timeout_s) or self.timeout_s <= 0:
            raise ValueError("timeout_s must be a positive number of seconds")
        if self.ssl_context is not None and not isinstance(self.ssl_context, ssl.SSLContext):
            raise ValueError("ssl_context must be an ssl.SSLContext")

    def __repr__(self) -> str:
        password = None if self.password is None else "***"
        return (f"SmtpSettings(host={self.host!r}, port={self.port!r}, "
                f"security={self.security!r}, username={self.username!r}, "
                f"password={password!r}, from_address={self.from_address!r}, "
                f"timeout_s={self.timeout_s!r}, "
                f"ssl_context={'custom' if self.ssl_context else 'default'})")

    @property
    def envelope_sender(self) -> str:
        return _address(self.from_address, "from_address").addr_spec


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "text/csv"

    def __post_init__(self) -> None:
        if not isinstance(self.filename, str) or not self.filename.strip():
            raise ValueError("an attachment needs a file name")
        _no_line_breaks(self.filename, "an attachment's file name")
        if any(char in self.filename for char in '/\\"'):
            raise ValueError("an attachment's file name must not contain /, \\ or quotes")
        if not isinstance(self.content, bytes):
            raise ValueError("an attachment's content must be bytes")
        if not isinstance(self.mime_type, str) or not _MIME_TYPE.fullmatch(self.mime_type):
            raise ValueError(f"'{self.mime_type}' is not a MIME type like text/csv")


@dataclass(frozen=True)
class SendReceipt:
    message_id: str
    accepted: tuple[str, ...]
    refused: Mapping[str, tuple[int, str]]
    """Recipients the server refused while accepting others: address -> (code, reply)."""


def build_message(settings: SmtpSettings, to: Sequence[str], subject: str, text: str,
                  attachments: Sequence[Attachment] = (), *, now: datetime) -> EmailMessage:
    """A plain-text message with attachments. ``now`` (aware) is its Date header."""
    if isinstance(to, str):
        raise ValueError("to must be a list of addresses, not one string")
    recipients: list[Address] = []
    for index, value in enumerate(to):
        address = _address(value, f"to[{index}]")
        if all(address.addr_spec.lower() != seen.addr_spec.lower() for seen in recipients):
            recipients.append(address)
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    _no_line_breaks(subject, "the subject")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    sender = _address(settings.from_address, "from_address")

    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipients
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    # Random, not clock-based (email.utils.make_msgid reads the clock and the host name).
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{sender.domain}>"
    message.set_content(text)
    for attachment in attachments:
        maintype, subtype = attachment.mime_type.split("/", 1)
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def send_email(settings: SmtpSettings, message: EmailMessage) -> SendReceipt:
    """Deliver ``message`` to its To/Cc/Bcc recipients; raise :class:`EmailError` on failure.

    Returns normally when at least one recipient was accepted; refused ones are listed.
    """
    message_id = message.get("Message-ID")
    if not message_id:
        raise ValueError("the message has no Message-ID (build it with build_message)")
    recipients = _recipients(message)
    context = settings.ssl_context or ssl.create_default_context()
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_s,
                                    context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
        smtp.ehlo_or_helo_if_needed()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise EmailError(f"the SMTP server {_where(settings)} does not offer STARTTLS; "
                                 "not sending in clear text", retryable=False)
            smtp.starttls(context=context)
            smtp.ehlo()  # the server's capabilities may differ once encrypted
        if settings.username is not None and settings.password is not None:
            if not smtp.has_extn("auth"):
                raise EmailError(f"the SMTP server {_where(settings)} does not offer AUTH, "
                                 "but a username and password are configured", retryable=False)
            smtp.login(settings.username, settings.password)
        refused_raw = smtp.send_message(message, from_addr=settings.envelope_sender,
                                        to_addrs=recipients)
    except EmailError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        # Keep the cause for debugging, unless a careless server quoted the password in it.
        leaks = settings.password is not None and settings.password in str(exc)
        raise _failure(exc, settings) from (None if leaks else exc)
    finally:
        if smtp is not None:
            _close(smtp)
    refused = {address: (code, _text(reply, settings))
               for address, (code, reply) in refused_raw.items()}
    accepted = tuple(address for address in recipients if address not in refused)
    return SendReceipt(message_id=str(message_id), accepted=accepted, refused=refused)


def _recipients(message: EmailMessage) -> list[str]:
    values = [str(value) for field in ("To", "Cc", "Bcc")
              for value in message.get_all(field, [])]
    recipients: list[str] = []
    for _, address in getaddresses(values):
        if address and address not in recipients:
            recipients.append(address)
    if not recipients:
        raise ValueError("the message has no recipients")
    return recipients


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()  # QUIT is a courtesy; the message's fate is already decided


def _where(settings: SmtpSettings) -> str:
    return f"{settings.host}:{settings.port}"


def _text(reply: bytes | str, settings: SmtpSettings) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    text = " ".join(text.split())
    if settings.password:
        text = text.replace(settings.password, "***")
    return text


def _reply(code: int, reply: bytes | str, settings: SmtpSettings) -> str:
    return f"{code} {_text(reply, settings)}".strip()


def _transient(code: int) -> bool:
    return 400 <= code < 500


def _failure(exc: smtplib.SMTPException | OSError, settings: SmtpSettings) -> EmailError:
    """A plain-language EmailError for a failure talking to the server."""
    where = _where(settings)
    # smtplib's exceptions are OSErrors too, so they go first.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = {address: (code, reply) for address, (code, reply) in exc.recipients.items()}
        listed = "; ".join(f"{address} ({_reply(code, reply, settings)})"
                           for address, (code, reply) in replies.items())
        return EmailError(f"the SMTP server refused every recipient: {listed}",
                          retryable=all(_transient(code) for code, _ in replies.values()))
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return EmailError(f"the SMTP server {where} rejected the username or password "
                          f"({_reply(exc.smtp_code, exc.smtp_error, settings)})",
                          retryable=_transient(exc.smtp_code))
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return EmailError(f"the SMTP server refused the sender {exc.sender} "
                          f"({_reply(exc.smtp_code, exc.smtp_error, settings)})",
                          retryable=_transient(exc.smtp_code))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):  # smtplib rewraps read timeouts
            return _failure(exc.__context__, settings)
        return EmailError(f"the SMTP server {where} closed the connection unexpectedly",
                          retryable=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        return EmailError(f"the SMTP server {where} replied "
                          f"{_reply(exc.smtp_code, exc.smtp_error, settings)}",
                          retryable=_transient(exc.smtp_code))
    if isinstance(exc, smtplib.SMTPException):  # e.g. no AUTH mechanism in common
        return EmailError(f"SMTP error with {where}: {_text(str(exc), settings)}",
                          retryable=False)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return EmailError(f"the TLS certificate of the SMTP server {where} could not be "
                          f"verified: {exc.verify_message}", retryable=False)
    if isinstance(exc, ssl.SSLError):
        # Usually a configuration mismatch (e.g. 'tls' against a STARTTLS port).
        return EmailError(f"TLS failed with the SMTP server {where}: {exc.reason or exc}",
                          retryable=False)
    if isinstance(exc, TimeoutError):
        return EmailError(f"the SMTP server {where} did not answer within "
                          f"{settings.timeout_s:g} s", retryable=True)
    return EmailError(f"could not connect to the SMTP server {where}: "
                      f"{exc.strerror or exc.__class__.__name__}", retryable=True)


def smtp_settings(stored: Mapping[str, Any] | None) -> SmtpSettings:
    """The workspace's ``email`` settings; EmailError (not retryable) when unusable."""
    if not stored:
        raise EmailError(NO_SMTP, retryable=False)
    try:
        return SmtpSettings(
            host=stored.get("host"),  # type: ignore[arg-type]  # checked by SmtpSettings
            port=int(stored.get("port") or 587),
            security=stored.get("security") or "starttls",
            username=stored.get("username") or None,
            password=stored.get("password") or None,
            from_address=stored.get("from_address"),  # type: ignore[arg-type]
            timeout_s=float(stored.get("timeout_seconds") or 30.0))
    except (ValueError, TypeError) as exc:
        raise EmailError(f"the workspace's SMTP settings are unusable ({exc}): PATCH "
                         "/v1/settings with email", retryable=False) from None
