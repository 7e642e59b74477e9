"""Sending a batch of emails over one connection, with each failure classified.

The dispatcher needs, per message: sent, transient (try again later: SMTP 4xx, refused
connection, time-out, a dropped connection), or permanent (5xx), and whether a permanent failure
is a hard bounce of the recipient's address (5xx at RCPT TO). Django's backends already raise
smtplib's (or anymail's) exceptions for each of these when ``fail_silently`` is off, so the
Mailer opens the backend's connection once and hands it one message at a time through
``send_messages``: Django builds the MIME, sanitises the addresses (IDN domains become
punycode in the envelope and the headers) and speaks SMTP; we only classify what it raises.
"""

from __future__ import annotations

import contextlib
import secrets
import smtplib
import socket
import ssl
from dataclasses import dataclass, replace
from enum import Enum
from types import TracebackType

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core.mail import EmailMessage, get_connection


def message_id_new(domain: str) -> str:
    """A Message-ID for an email we build: 128 bits from ``secrets``. Message-IDs are quoted
    back in replies and thread lookups, so they must not be guessable; the stdlib's
    ``email.utils.make_msgid`` draws from ``random``."""
    return f"<{secrets.token_hex(16)}@{domain}>"


class Outcome(Enum):
    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str = ""
    hard_bounce: bool = False
    # An earlier try of this same message whose connection dropped before the server's reply:
    # the server may have kept it (its error is here), so a success after it may be a repeat.
    lost_reply: str = ""

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

    The connection is opened on entry and closed on exit; ``send_messages`` reuses an open
    connection and leaves it open. A connection the server dropped between messages is opened
    again once and the message retried. Any backend works the same way (SMTP, outbox, console,
    an anymail ESP); for SMTP, each message must have one recipient, as every cxcrm email has:
    Django ignores partial refusals of a multi-recipient message (smtplib raises only when every
    recipient is refused).
    """

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self.open_error: SendResult | None = None

    def __enter__(self) -> Mailer:
        self._open()
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
        """Send one message; a dropped connection is opened again and the message tried once
        more. smtplib does not say at which step the connection dropped (before MAIL FROM, or
        after the message's final dot), so that first try is reported as ``lost_reply``: the
        server may have kept it."""
        if self.open_error is not None:
            return self.open_error
        lost_reply = ""
        for attempt in (1, 2):
            try:
                sent = self.backend.send_messages([message])
            except smtplib.SMTPServerDisconnected as exc:
                # The server closed an idle connection or answered 421: the next message
                # needs a new one. A second drop in a row is the server's state, not ours.
                lost_reply = classify(exc).error
                if attempt == 2 or not self._reopen():
                    return replace(classify(exc), lost_reply=lost_reply)
                continue
            except Exception as exc:  # noqa: BLE001 - every failure is classified, none may escape
                return replace(classify(exc), lost_reply=lost_reply)
            if not sent:
                return SendResult(
                    Outcome.PERMANENT, "the email backend sent nothing", lost_reply=lost_reply
                )
            return replace(SENT, lost_reply=lost_reply) if lost_reply else SENT
        return SendResult(Outcome.TRANSIENT, "unreachable")  # pragma: no cover

    def _open(self) -> bool:
        try:
            self.backend.open()
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none may escape
            self.open_error = classify(exc)
            return False
        return True

    def _reopen(self) -> bool:
        # close() forgets a dead connection (it swallows the disconnect), so open() makes one.
        with contextlib.suppress(Exception):
            self.backend.close()
        return self._open()
