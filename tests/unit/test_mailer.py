"""The Mailer over Django's SMTP backend: the envelope Django writes and the outcome the Mailer
gives every refusal, against a real aiosmtpd server."""

from __future__ import annotations

import email.utils as email_utils
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core.mail import EmailMultiAlternatives
from django.core.mail import message as django_mail_message
from django.test import override_settings

from cxcrm.mail import Mailer, Outcome, message_id_new
from feedback.surveys.emails import build_invitation_message, new_message_id, render_invitation
from feedback.surveys.models import EmailKind
from feedback.surveys.services.outbox import outbound_email_queue
from feedback.surveys.services.sending import outbound_email_send
from tests.factories import InvitationFactory
from tests.smtp import SmtpSink, free_port, smtp_settings


@dataclass
class Scripted:
    """Records each envelope; answers MAIL, RCPT or DATA with a scripted reply while one is
    queued for that command."""

    envelopes: list[tuple[str, list[str], list[str], bytes]] = field(default_factory=list)
    replies: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _next(self, command: str) -> str | None:
        with self.lock:
            queued = self.replies.get(command) or []
            return queued.pop(0) if queued else None

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self._next("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self._next("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self._next("DATA")
        if reply:
            return reply
        content = envelope.original_content or b""
        with self.lock:
            self.envelopes.append(
                (
                    str(envelope.mail_from),
                    list(envelope.rcpt_tos),
                    list(envelope.mail_options),
                    content,
                )
            )
        return "250 Accepted"


@pytest.fixture
def server() -> Iterator[Scripted]:
    handler = Scripted()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=10,
        ):
            yield handler
    finally:
        controller.stop()


def email(to: str = "ana@example.com", subject: str = "How did we do?") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject, "Plain body", "Acme Surveys <surveys@acme.example>", [to]
    )
    message.attach_alternative("<p>HTML body</p>", "text/html")
    return message


def test_envelope_uses_the_bare_sender_and_declares_the_size(server: Scripted) -> None:
    with Mailer() as mailer:
        assert mailer.send(email()).ok
    ((sender, recipients, options, content),) = server.envelopes
    assert sender == "surveys@acme.example"
    assert recipients == ["ana@example.com"]
    assert any(o.upper().startswith("SIZE=") for o in options)
    assert b"Subject: How did we do?" in content


def test_refused_data_is_permanent_but_not_a_bounce_and_the_next_message_goes(
    server: Scripted,
) -> None:
    server.replies["DATA"] = ["554 5.7.1 Message rejected as spam"]
    with Mailer() as mailer:
        refused = mailer.send(email("one@example.com"))
        accepted = mailer.send(email("two@example.com"))
    assert refused.outcome is Outcome.PERMANENT and not refused.hard_bounce
    assert refused.error.startswith("554")
    assert accepted.ok
    assert [e[1] for e in server.envelopes] == [["two@example.com"]]


def test_refused_sender_is_transient_on_4xx(server: Scripted) -> None:
    server.replies["MAIL"] = ["451 4.3.0 Greylisted"]
    with Mailer() as mailer:
        result = mailer.send(email())
        assert mailer.send(email()).ok
    assert result.outcome is Outcome.TRANSIENT and result.error.startswith("451")


def test_recipient_refused_with_5xx_is_a_hard_bounce(server: Scripted) -> None:
    server.replies["RCPT"] = ["550 5.1.1 No such user"]
    with Mailer() as mailer:
        result = mailer.send(email("gone@example.com"))
    assert result.outcome is Outcome.PERMANENT and result.hard_bounce


def test_421_closes_and_the_next_message_reconnects(server: Scripted) -> None:
    server.replies["RCPT"] = ["421 4.3.2 Shutting down"]
    with Mailer() as mailer:
        result = mailer.send(email("first@example.com"))
        again = mailer.send(email("second@example.com"))
    assert result.outcome is Outcome.TRANSIENT
    assert again.ok
    assert [e[1] for e in server.envelopes] == [["second@example.com"]]


def test_an_address_with_a_display_name_has_the_bare_address_in_the_envelope(
    server: Scripted,
) -> None:
    with Mailer() as mailer:
        assert mailer.send(email("Ana Müller <ana@example.com>")).ok
    assert server.envelopes[0][1] == ["ana@example.com"]


def test_an_idn_domain_is_punycode_in_the_envelope_and_the_to_header(server: Scripted) -> None:
    with Mailer() as mailer:
        assert mailer.send(email("user@exämple.com")).ok
    ((_sender, recipients, _options, content),) = server.envelopes
    assert recipients == ["user@xn--exmple-cua.com"]
    assert b"To: user@xn--exmple-cua.com" in content


def test_one_connection_carries_the_whole_batch(server: Scripted) -> None:
    with Mailer() as mailer:
        first = mailer.backend.connection
        assert all(mailer.send(email(f"c{i}@example.com")).ok for i in range(3))
        assert mailer.backend.connection is first
    assert len(server.envelopes) == 3


def test_an_unreachable_server_is_transient_for_every_message() -> None:
    unreachable = override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free_port(),
        EMAIL_TIMEOUT=5,
    )
    with unreachable, Mailer() as mailer:
        results = [mailer.send(email()), mailer.send(email())]
    assert all(r.outcome is Outcome.TRANSIENT for r in results)


def test_other_backends_take_the_message_as_it_is() -> None:
    from django.core import mail

    locmem = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    with locmem, Mailer() as mailer:
        assert mailer.send(email()).ok
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]


# --- Message-IDs -------------------------------------------------------------------------------

MESSAGE_ID = re.compile(r"^<[0-9a-f]{32}@reply\.example>$")


def test_message_ids_are_128_random_bits_and_unique() -> None:
    ids = [message_id_new("reply.example") for _ in range(20_000)]

    assert all(MESSAGE_ID.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_message_ids_come_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []

    def token_hex(nbytes: int) -> str:
        drawn.append(nbytes)
        return "ab" * nbytes

    monkeypatch.setattr(secrets, "token_hex", token_hex)

    assert message_id_new("reply.example") == f"<{'ab' * 16}@reply.example>"
    assert drawn == [16]


@pytest.mark.django_db
def test_no_email_we_build_gets_its_message_id_from_make_msgid(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """make_msgid draws from ``random``: every message the product builds sets its own id, so
    Django never falls back to it."""

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("make_msgid was called")

    monkeypatch.setattr(email_utils, "make_msgid", refuse)
    monkeypatch.setattr(django_mail_message, "make_msgid", refuse)
    settings.INBOUND_EMAIL_DOMAIN = "reply.example"
    invitation = InvitationFactory()
    rendered = render_invitation(invitation)
    survey = build_invitation_message(
        invitation, rendered, message_id=new_message_id(), kind="survey"
    ).message()
    queued = outbound_email_queue(
        to="ann@example.com", subject="Re: x", text="hi", kind=EmailKind.SYSTEM
    )

    assert MESSAGE_ID.match(survey["Message-ID"])
    assert MESSAGE_ID.match(queued.message_id)
    assert queued.headers["Message-ID"] == queued.message_id


@pytest.mark.django_db
def test_a_queued_email_keeps_its_message_id_across_retries(settings: Any) -> None:
    settings.INBOUND_EMAIL_DOMAIN = "reply.example"
    queued = outbound_email_queue(
        to="ann@example.com", subject="Re: x", text="hi", kind=EmailKind.SYSTEM
    )
    with SmtpSink() as smtp, override_settings(**smtp_settings(smtp)):
        smtp.defer_for(3600)
        assert outbound_email_send(email_id=queued.pk).outcome is Outcome.TRANSIENT
        smtp.defer_for(0)
        assert outbound_email_send(email_id=queued.pk).ok
        [delivered] = smtp.messages

    assert delivered["Message-ID"] == queued.message_id
