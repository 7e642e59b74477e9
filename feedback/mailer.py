"""Sending a batch of emails over one connection, with each failure classified.

Django's ``send_messages`` stops at the first SMTP error and cannot say which recipient failed
or whether it is worth retrying. The dispatcher needs, per message: sent, transient (try again
later: SMTP 4xx, refused connection, time-out, a dropped connection), or permanent (5xx), and
whether a permanent failure is a hard bounce of the recipient's address (5xx at RCPT TO).
"""

from __future__ import annotations

import contextlib
import functools
import re
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formatdate, make_msgid, parseaddr
from enum import Enum
from types import TracebackType

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME


class Outcome(Enum):
    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str = ""
    hard_bounce: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SENT


SENT = SendResult(Outcome.SENT)

_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    socket.timeout,
    TimeoutError,
    ssl.SSLError,
    OSError,
)


def _code_result(code: int, message: bytes | str, *, at_rcpt: bool) -> SendResult:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    error = f"{code} {text}".strip()[:1000]
    if 400 <= code < 500:
        return SendResult(Outcome.TRANSIENT, error)
    # A permanent refusal of the recipient's address is a hard bounce; a permanent refusal of
    # the message (content, policy) fails this email without blaming the address.
    return SendResult(Outcome.PERMANENT, error, hard_bounce=at_rcpt)


def classify(exc: BaseException) -> SendResult:
    """Map an exception from sending one message to an outcome."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()))
        return _code_result(code, message, at_rcpt=True)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _code_result(exc.smtp_code, exc.smtp_error, at_rcpt=False)
    if isinstance(exc, smtplib.SMTPDataError | smtplib.SMTPHeloError):
        return _code_result(exc.smtp_code, exc.smtp_error, at_rcpt=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _code_result(exc.smtp_code, exc.smtp_error, at_rcpt=False)
    if isinstance(exc, AnymailRecipientsRefused):
        # The ESP refused every recipient (invalid, bounced before, or suppressed there).
        return SendResult(Outcome.PERMANENT, str(exc)[:1000], hard_bounce=True)
    if isinstance(exc, AnymailAPIError):
        # HTTP semantics, not SMTP's: rate limits and server errors are worth retrying, other
        # 4xx answers (bad request, bad credentials) will not get better by themselves.
        status = exc.status_code
        if status is None or status == 429 or status >= 500:
            return SendResult(Outcome.TRANSIENT, f"HTTP {status}: {exc}"[:1000])
        return SendResult(Outcome.PERMANENT, f"HTTP {status}: {exc}"[:1000])
    if isinstance(exc, _TRANSIENT_ERRORS):
        return SendResult(Outcome.TRANSIENT, f"{type(exc).__name__}: {exc}"[:1000])
    return SendResult(Outcome.PERMANENT, f"{type(exc).__name__}: {exc}"[:1000])


class Mailer:
    """One connection for a batch: ``with Mailer() as m: m.send(msg)``.

    With the SMTP backend it speaks to smtplib directly so that each message gets its own
    outcome, and reconnects once when the server dropped the connection between messages.
    Any other backend (outbox, console, an anymail ESP) is driven one message at a time.
    """

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self._opened = False
        self.open_error: SendResult | None = None

    def __enter__(self) -> Mailer:
        try:
            self.backend.open()
            self._opened = True
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none may escape
            self.open_error = classify(exc)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(Exception):
            self.backend.close()

    def send(self, message: EmailMessage) -> SendResult:
        if self.open_error is not None:
            return self.open_error
        if not isinstance(self.backend, SmtpBackend):
            try:
                self.backend.send_messages([message])
            except Exception as exc:  # noqa: BLE001 - every failure is classified, none may escape
                return classify(exc)
            return SENT
        for attempt in (1, 2):
            try:
                self._smtp_send(message)
                return SENT
            except smtplib.SMTPServerDisconnected as exc:
                if attempt == 2:
                    return classify(exc)
                if not self._reconnect():
                    return classify(exc)
            except Exception as exc:  # noqa: BLE001 - every failure is classified, none may escape
                self._reset_after_error()
                return classify(exc)
        return SendResult(Outcome.TRANSIENT, "unreachable")  # pragma: no cover

    def _smtp_send(self, message: EmailMessage) -> None:
        backend: SmtpBackend = self.backend  # type: ignore[assignment]
        if backend.connection is None and not self._reconnect():
            raise smtplib.SMTPServerDisconnected("could not reconnect")
        assert backend.connection is not None
        recipients = message.recipients()
        payload = fast_mime(message) or message.message().as_bytes(linesep="\r\n")
        sender = message.from_email
        envelope_sender = _envelope(sender)
        if len(recipients) == 1 and _plain(envelope_sender) and _plain(recipients[0]):
            _transaction(backend.connection, envelope_sender, recipients[0], payload)
            return
        refused = backend.connection.sendmail(sender, recipients, payload)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)

    def _reset_after_error(self) -> None:
        """After a refused message, clear the SMTP transaction so the next one starts clean."""
        backend: SmtpBackend = self.backend  # type: ignore[assignment]
        if backend.connection is None:
            return
        try:
            backend.connection.rset()
        except Exception:  # noqa: BLE001 - every failure is classified, none may escape
            backend.connection = None

    def _reconnect(self) -> bool:
        backend: SmtpBackend = self.backend  # type: ignore[assignment]
        with contextlib.suppress(Exception):
            backend.close()
        backend.connection = None
        try:
            backend.open()
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none may escape
            self.open_error = classify(exc)
            return False
        return True


def _plain(address: str) -> bool:
    return _BARE_ADDRESS.fullmatch(address) is not None


@functools.lru_cache(maxsize=64)
def _envelope(address: str) -> str:
    """The bare address smtplib would put in MAIL FROM for a From like ``Brand <a@b.c>``."""
    return parseaddr(address)[1] or address


def _transaction(smtp: smtplib.SMTP, sender: str, recipient: str, payload: bytes) -> None:
    """One SMTP mail transaction for a bare ASCII sender and one bare ASCII recipient.

    What ``smtplib.SMTP.sendmail`` does for this case, with the same exceptions, without its
    ``quoteaddr`` (the email package's address parser, twice per message, ~0.15 ms): the
    addresses are already in the form the envelope needs.
    """
    smtp.ehlo_or_helo_if_needed()
    options = f" SIZE={len(payload)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    smtp.putcmd("mail", f"FROM:<{sender}>{options}")
    code, reply = smtp.getreply()
    if code != 250:
        _end_refused(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    smtp.putcmd("rcpt", f"TO:<{recipient}>")
    code, reply = smtp.getreply()
    if code not in (250, 251):
        _end_refused(smtp, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = smtp.data(payload)
    if code != 250:
        _end_refused(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _end_refused(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal, as sendmail does: 421 means the server is closing, so close; any other
    refusal resets the transaction so the connection can carry the next message."""
    if code == 421:
        smtp.close()
    else:
        smtp._rset()


# --- A faster serializer for the common case -------------------------------------------------

_MAX_LINE = 998  # RFC 5322: longer lines need a transfer encoding
_MIME_SKIP = {"content-type", "mime-version", "content-transfer-encoding"}


def _header(name: str, value: str) -> str | None:
    value = str(value)
    if "\n" in value or "\r" in value:
        return None
    if value.isascii():
        line = f"{name}: {value}"
        return line if len(line) <= _MAX_LINE else None
    return f"{name}: {_encoded_words(name, value)}"


@functools.lru_cache(maxsize=512)
def _encoded_words(name: str, value: str) -> str:
    """RFC 2047 encoded-words, folded, as Django does for non-ASCII header values (cached: a
    survey's subject is the same in every email of its language)."""
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _body(text: str) -> bytes | None:
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    if any(len(line) > _MAX_LINE for line in data.split(b"\n")):
        return None
    return data.replace(b"\n", b"\r\n")


# A bare ASCII address needs no rewriting; Django's sanitize_address parses it with the email
# package's header parser, about 0.25 ms a call, more than the rest of the message costs.
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


@functools.lru_cache(maxsize=64)
def _sanitized(address: str) -> str:
    return sanitize_address(address, "utf-8")


def _address(address: str) -> str:
    if _BARE_ADDRESS.fullmatch(address):
        return address
    return _sanitized(address)


def fast_mime(message: EmailMessage) -> bytes | None:
    """The wire form of a plain text + HTML email, built directly, or None to let Django do it.

    Django's message()/as_bytes() goes through the email package's generic header folding and
    generator, about 0.6 ms per survey email, the largest cost of dispatch after the network.
    This covers the shape every cxcrm email has — one text body, one HTML alternative, no
    attachments, ASCII addresses, lines short enough for 8bit — and produces what Django would
    (tests parse both and compare); anything else returns None and takes Django's path.
    """
    if not isinstance(message, EmailMultiAlternatives) or message.attachments:
        return None
    if message.content_subtype != "plain" or len(message.alternatives) != 1:
        return None
    html, mimetype = message.alternatives[0]
    if mimetype != "text/html" or message.cc or message.bcc or len(message.to) != 1:
        return None
    recipient = _address(message.to[0])
    sender = _address(message.from_email)
    if not (recipient.isascii() and sender.isascii()):
        return None
    text_part, html_part = _body(message.body), _body(str(html))
    if text_part is None or html_part is None:
        return None
    boundary = f"===============cx{uuid.uuid4().hex}=="
    extra = {k: v for k, v in message.extra_headers.items() if k.lower() not in _MIME_SKIP}
    lower = {k.lower() for k in extra}
    headers: list[tuple[str, str]] = [("Subject", message.subject), ("From", sender)]
    headers.append(("To", recipient))
    if "date" not in lower:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in lower:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers.extend((k, str(v)) for k, v in extra.items())
    lines = [f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"', "MIME-Version: 1.0"]
    for name, value in headers:
        line = _header(name, value)
        if line is None:
            return None
        lines.append(line)
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    marker = f"--{boundary}".encode("ascii")
    if marker in text_part or marker in html_part:
        return None

    def part(subtype: str, body: bytes) -> bytes:
        return (
            marker
            + f'\r\nContent-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
            "Content-Transfer-Encoding: 8bit\r\n\r\n".encode("ascii")
            + body
            + b"\r\n"
        )

    return head + part("plain", text_part) + part("html", html_part) + marker + b"--\r\n"
