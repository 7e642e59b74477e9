"""Replies by email: the .eml fixtures (tests/fixtures/email) are shaped like what Gmail,
Outlook, Apple Mail, Thunderbird, Yahoo, Mail.ru, QQ Mail and an Exchange out-of-office really
send. Each goes through the service, the receive_email command and, for the webhook, anymail's
Postmark inbound format."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.inbound import parsing as inbound
from feedback.inbound.models import InboundEmail, InboundSource, InboundStatus
from feedback.inbound.services import EmptyMessage, inbound_email_receive
from feedback.inbound.views import inbound_view_class
from feedback.surveys.models import (
    Invitation,
    InvitationPurpose,
    InvitationState,
    Response,
    ResponseChannel,
)
from feedback.tickets.models import MessageDirection, TicketEvent, TicketMessage, TicketStatus
from feedback.tickets.services import ticket_message_receive
from tests.factories import (
    InvitationFactory,
    OutboundEmailFactory,
    ResponseFactory,
    RootCauseFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
TOKEN = "q3Vb9xP2sLmE7wRfYc8dHgJ6aZuQ1oN5iK0tXyBnM4c"  # the token in the fixtures' addresses
DOMAIN = "reply.example.com"
SURVEY_MESSAGE_ID = "<173211480012.4242.1234567890123456789@reply.example.com>"
WEBHOOK_URL = "/inbound/email/"
SECRET = "inbound:s3cret-value"

# Each reply fixture: what its new text must say, and what of the quote must be gone.
REPLIES = {
    "gmail_reply.eml": ("the box was soaked through", "How likely"),
    "outlook_reply.eml": ("I had to call the café twice", "Sent: Friday"),
    "apple_mail_reply.eml": ("found my size in the back", "wrote:"),
    "plain_text.eml": ("ging schnell und freundlich.", "Tel. +49"),
    "html_only.eml": ("I couldn't find where to enter the discount code", "wrote:"),
    "with_attachment.eml": ("photo of the damaged box", "How likely"),
    "cp1251_russian.eml": ("Курьер опоздал на три часа", "Насколько"),
    "gb2312_chinese.eml": ("快递员王喆很热情", "原始邮件"),
    "iso88592_polish.eml": ("jedna szklanka się stłukła", "pisze:"),
}


def eml(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def inbound_settings(settings: Any) -> None:
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN
    settings.CXCRM_INBOUND_MAX_BYTES = 10 * 1024 * 1024
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def sent_invitation(**kwargs: Any) -> Invitation:
    defaults: dict[str, Any] = {
        "token": TOKEN,
        "state": InvitationState.SENT,
        "sent_at": timezone.now() - timedelta(days=1),
        "message_id": SURVEY_MESSAGE_ID,
    }
    return InvitationFactory(**{**defaults, **kwargs})


def answered_invitation(score: int = 3, comment: str = "") -> Response:
    invitation = sent_invitation(state=InvitationState.RESPONDED)
    return ResponseFactory(
        invitation=invitation, score=score, comment=comment, channel=ResponseChannel.EMAIL_CLICK
    )


def via_service(raw: bytes) -> InboundEmail:
    return inbound_email_receive(raw=raw, source=InboundSource.COMMAND)


def via_command(raw: bytes) -> InboundEmail:
    out = io.StringIO()
    call_command("receive_email", stdin=io.BytesIO(raw), stdout=out)
    row = InboundEmail.objects.latest("pk")
    # One line that says what happened.
    assert out.getvalue().startswith(f"Inbound email #{row.pk}: {row.status}.")
    assert out.getvalue().count("\n") == 1
    return row


@pytest.fixture(params=["service", "command"])
def receive(request: Any) -> Callable[[bytes], InboundEmail]:
    return via_service if request.param == "service" else via_command


# --- Parsing (no database) ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_new_text_is_the_reply_without_quote_or_signature(name: str) -> None:
    wanted, quoted = REPLIES[name]
    parsed = inbound.parse(eml(name))
    assert wanted in parsed.text
    assert quoted not in parsed.text
    assert parsed.recipients == (f"reply+{TOKEN}@{DOMAIN}",)
    assert parsed.thread_ids == [SURVEY_MESSAGE_ID]
    assert parsed.auto_reply == ""


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("gmail_reply.eml", "ring the bell"),
        ("outlook_reply.eml", "two days late"),
        ("apple_mail_reply.eml", "Leeds store"),
        ("gb2312_chinese.eml", "包装有点破损"),
    ],
)
def test_html_alternative_alone_gives_the_same_new_text(name: str, wanted: str) -> None:
    msg = inbound.parse_message(eml(name))
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    text = inbound.new_text(inbound.html_to_text(inbound._text_of(html)))
    assert wanted in text
    for quoted in ("How likely", "From:", "wrote:", "原始邮件"):
        assert quoted not in text


def test_headers_in_other_charsets_are_decoded() -> None:
    assert inbound.parse(eml("cp1251_russian.eml")).subject == "Re: Как мы справились?"
    assert inbound.parse(eml("gb2312_chinese.eml")).subject == "回复：How did we do?"
    assert inbound.parse(eml("iso88592_polish.eml")).subject == "Re: Jak nam poszło?"


def test_attachments_are_named_not_read_as_text() -> None:
    parsed = inbound.parse(eml("with_attachment.eml"))
    assert parsed.attachments == ("IMG_20261121_135501.jpg", "receipt-10482.pdf")
    assert "PDF" not in parsed.text


def test_malformed_mime_parses_into_something() -> None:
    parsed = inbound.parse(eml("malformed.eml"))
    assert "crashing" in parsed.text
    assert parsed.recipients == (f"reply+{TOKEN}@{DOMAIN}",)


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("9", 9),
        (" 10 \n", 10),
        ("9/10", 9),
        ("7 out of 10!", 7),
        ("٩", 9),  # Arabic-Indic digit
        ("９", 9),  # full-width digit (Chinese and Japanese input methods)
        ("8分", 8),
        ("9 thanks", None),
        ("123", None),
        ("", None),
        ("The 9 o'clock delivery was late", None),
    ],
)
def test_bare_score(text: str, score: int | None) -> None:
    assert inbound.bare_score(text) == score


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted"),
        ("Auto-Submitted: auto-generated", "Auto-Submitted"),
        ("X-Autoreply: yes", "X-Autoreply"),
        ("X-Autorespond: Vacation", "X-Autorespond"),
        ("Precedence: auto_reply", "Precedence"),
        ("Precedence: bulk", "Precedence"),
        ("Return-Path: <>", "null Return-Path"),
        ("Subject: Out of Office: Re: How did we do?", "subject"),
        ("Subject: Автоответ: Как мы справились?", "subject"),
        ("Subject: =?utf-8?b?QXV0b21hdHljem5hIG9kcG93aWVkxbo=?=", "subject"),
        ("Subject: 自动回复: How did we do?", "subject"),
        ("Subject: رد تلقائي: How did we do?", "subject"),
    ],
)
def test_auto_replies_are_recognised(headers: str, reason: str) -> None:
    raw = f"From: a@example.com\n{headers}\n\nAway.\n".encode()
    assert reason in inbound.parse(raw).auto_reply


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: no",
        "X-Auto-Response-Suppress: All",  # Exchange puts it on ordinary mail
        "Precedence: list",
        "Subject: Re: How did we do?",
    ],
)
def test_people_are_not_taken_for_machines(headers: str) -> None:
    raw = f"From: a@example.com\n{headers}\n\nHello.\n".encode()
    assert inbound.parse(raw).auto_reply == ""


@pytest.mark.parametrize(
    ("body", "wanted"),
    [
        # Bottom posting: nothing above the quote header, the answer below the quote.
        ("On Fri, 20 Nov 2026, Acme <f@a.example> wrote:\n> Q?\n\nBelow it.\n", "Below it."),
        ("Top.\n\n-----Original Message-----\nFrom: Acme\nSent: today\n\nQ?\n", "Top."),
        ("Oui.\n\nLe ven. 20 nov. 2026 à 10:00, Acme <f@a.example> a écrit :\n> Q?\n", "Oui."),
        ("Ja.\n\nVon: Acme <f@a.example>\nGesendet: Freitag\nAn: x\nBetreff: Q\n", "Ja."),
        ("Nice.\n\nSent from my Galaxy\n", "Nice."),
        ("Inline:\n> Q1?\nA1\n> Q2?\nA2\n", "Inline:\nA1\nA2"),
        # Gmail's and Outlook's headers in the customers' other languages.
        ("Да.\n\nпт, 20 нояб. 2026 г. в 10:00, Acme <f@a.example>:\n> Вопрос?\n", "Да."),
        ("Да.\n\n20 нояб. 2026 г., в 10:00, Acme <f@a.example> написал(а):\n> Q\n", "Да."),
        ("Да.\n\nОт: Acme <f@a.example>\nОтправлено: пятница\nКому: x\nТема: Q\n\nQ?\n", "Да."),
        ("Tak.\n\npt., 20 lis 2026 o 10:00 Acme <f@a.example> napisał(a):\n> Q\n", "Tak."),
        ("Tak.\n\nOd: Acme <f@a.example>\nWysłano: piątek\nDo: x\nTemat: Q\n\nQ?\n", "Tak."),
        ("好的。\n\nAcme <f@a.example> 于2026年11月20日周五 10:00写道：\n> Q\n", "好的。"),
        ("شكرا.\n\nفي الجمعة، 20 نوفمبر 2026 في 10:00 ص، Acme <f@a.example> كتب:\n> Q\n", "شكرا."),
        ("جيد.\n\nمن: Acme <f@a.example>\nأرسل: الجمعة\nإلى: x\nالموضوع: Q\n\nQ?\n", "جيد."),
        ("Fine.\n\n-- \nJohn Smith\nACME Ltd\n", "Fine."),
    ],
)
def test_quote_stripping_shapes(body: str, wanted: str) -> None:
    assert inbound.new_text(body) == wanted


def test_token_must_be_at_our_domain() -> None:
    assert inbound.find_token([f"reply+{TOKEN}@elsewhere.example"], DOMAIN) is None
    found = inbound.find_token([f"Reply+{TOKEN}@Reply.Example.com"], DOMAIN)
    assert found is not None and found.token == TOKEN and found.purpose == "reply"


# --- Recording, through the service and the command ---------------------------------------------


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_reply_becomes_the_comment(receive: Callable[[bytes], InboundEmail], name: str) -> None:
    response = answered_invitation(score=3, comment="Late.")
    row = receive(eml(name))
    assert row.status == InboundStatus.MATCHED_RESPONSE, row.note
    response.refresh_from_db()
    wanted, quoted = REPLIES[name]
    # Added after the earlier comment; the earlier version is kept in history.
    assert response.comment.startswith("Late.\n\n")
    assert wanted in response.comment and quoted not in response.comment
    assert response.score == 3
    assert response.channel == ResponseChannel.EMAIL_CLICK
    assert response.history[-1]["comment"] == "Late."
    assert (row.invitation_id, row.response_id) == (response.invitation_id, response.pk)
    assert bytes(row.raw) == eml(name)


def test_bare_number_on_an_unanswered_invitation_records_the_score(
    receive: Callable[[bytes], InboundEmail],
) -> None:
    invitation = sent_invitation()
    row = receive(eml("bare_number.eml"))
    assert row.status == InboundStatus.SCORE_RECORDED
    response = Response.objects.get(invitation=invitation)
    assert (response.score, response.channel, response.comment) == (9, "reply", "")
    assert response.language == invitation.customer.language
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.RESPONDED
    assert row.response_id == response.pk


def test_bare_number_on_an_answered_invitation_is_a_comment_not_a_new_score(
    receive: Callable[[bytes], InboundEmail],
) -> None:
    response = answered_invitation(score=3)
    row = receive(eml("bare_number.eml"))
    assert row.status == InboundStatus.MATCHED_RESPONSE
    response.refresh_from_db()
    assert (response.score, response.comment) == (3, "9")


def test_number_outside_the_scale_is_not_a_score(receive: Callable[[bytes], InboundEmail]) -> None:
    invitation = sent_invitation()
    raw = eml("bare_number.eml").replace(b"\n9\n", b"\n42\n")
    row = receive(raw)
    assert row.status == InboundStatus.NO_SCORE
    assert row.text == "42"
    assert not Response.objects.filter(invitation=invitation).exists()


def test_text_on_an_unanswered_invitation_is_kept_for_staff(
    receive: Callable[[bytes], InboundEmail],
) -> None:
    invitation = sent_invitation()
    row = receive(eml("gmail_reply.eml"))
    assert row.status == InboundStatus.NO_SCORE
    assert "soaked" in row.text
    assert row.invitation_id == invitation.pk
    assert not Response.objects.exists()


def test_reply_to_a_resolved_ticket_adds_a_message_and_reopens_it(
    receive: Callable[[bytes], InboundEmail],
) -> None:
    response = answered_invitation(score=2)
    ticket = TicketFactory(
        response=response,
        customer=response.customer,
        status=TicketStatus.RESOLVED,
        root_cause=RootCauseFactory(),
        resolved_at=timezone.now(),
    )
    row = receive(eml("with_attachment.eml"))
    assert row.status == InboundStatus.MATCHED_TICKET
    assert row.ticket_id == ticket.pk
    message = TicketMessage.objects.get(ticket=ticket)
    assert message.direction == MessageDirection.INBOUND
    assert message.body.startswith("Here is a photo of the damaged box and the receipt.")
    assert "IMG_20261121_135501.jpg, receipt-10482.pdf" in message.body
    assert message.from_email == "priya.patel@gmail.com"
    assert message.message_id == "<CAH3x7Q0attachment+example_abc123@mail.gmail.com>"
    assert message.in_reply_to == SURVEY_MESSAGE_ID
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at) == (TicketStatus.OPEN, None)
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.action, event.from_value, event.to_value) == ("status", "resolved", "open")
    assert event.note == "Reopened by the customer's reply"
    response.refresh_from_db()
    assert response.comment == ""  # the conversation is on the ticket


def test_auto_reply_records_nothing(receive: Callable[[bytes], InboundEmail]) -> None:
    invitation = sent_invitation()
    row = receive(eml("auto_reply.eml"))
    assert row.status == InboundStatus.AUTO_REPLY
    assert "Auto-Submitted" in row.note
    assert row.invitation_id == invitation.pk
    # Its last line is "9": still not a score.
    assert not Response.objects.exists()


def test_auto_reply_on_a_ticket_adds_nothing(receive: Callable[[bytes], InboundEmail]) -> None:
    response = answered_invitation(score=1)
    ticket = TicketFactory(response=response, customer=response.customer)
    row = receive(eml("auto_reply.eml"))
    assert row.status == InboundStatus.AUTO_REPLY
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_mail_with_no_token_is_kept_as_unmatched(
    receive: Callable[[bytes], InboundEmail],
) -> None:
    row = receive(eml("no_token.eml"))
    assert row.status == InboundStatus.UNMATCHED
    assert row.from_email == "liam.obrien@example.net"
    assert row.subject == "Question about my order 10482"
    assert "order 10482 will ship" in row.text


def test_unknown_token_is_unmatched(receive: Callable[[bytes], InboundEmail]) -> None:
    row = receive(eml("gmail_reply.eml"))
    assert row.status == InboundStatus.UNMATCHED
    assert "no invitation has this token" in row.note


def test_token_whose_case_an_mta_folded_still_matches() -> None:
    invitation = sent_invitation()
    raw = eml("bare_number.eml").replace(TOKEN.encode(), TOKEN.lower().encode())
    row = via_service(raw)
    assert row.status == InboundStatus.SCORE_RECORDED
    assert row.invitation_id == invitation.pk


def test_expired_invitation_records_nothing(receive: Callable[[bytes], InboundEmail]) -> None:
    sent_invitation(expires_at=timezone.now() - timedelta(hours=1))
    row = receive(eml("bare_number.eml"))
    assert row.status == InboundStatus.CLOSED
    assert "past its expiry" in row.note
    assert not Response.objects.exists()
    cancelled = InvitationFactory(token="x" * 43, state=InvitationState.CANCELLED)
    raw = eml("bare_number.eml").replace(TOKEN.encode(), cancelled.token.encode())
    row = receive(raw.replace(b"Message-Id: <8F2E", b"Message-Id: <other-8F2E"))
    assert row.status == InboundStatus.CLOSED
    assert "cancelled" in row.note


def test_mail_to_the_unsubscribe_address_unsubscribes(
    receive: Callable[[bytes], InboundEmail],
) -> None:
    invitation = sent_invitation()
    row = receive(eml("unsubscribe_mailto.eml"))
    assert row.status == InboundStatus.UNSUBSCRIBED
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is not None
    again = receive(eml("unsubscribe_mailto.eml").replace(b"unsubscribe_example", b"second"))
    assert again.status == InboundStatus.UNSUBSCRIBED
    assert "already unsubscribed" in again.note


def test_unsubscribe_wins_over_auto_reply_markers() -> None:
    invitation = sent_invitation()
    raw = b"Auto-Submitted: auto-generated\n" + eml("unsubscribe_mailto.eml")
    assert via_service(raw).status == InboundStatus.UNSUBSCRIBED
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is not None


def test_malformed_mime_is_stored_and_does_not_crash(
    receive: Callable[[bytes], InboundEmail],
) -> None:
    invitation = sent_invitation()
    row = receive(eml("malformed.eml"))
    assert bytes(row.raw) == eml("malformed.eml")
    assert row.status == InboundStatus.NO_SCORE
    assert row.invitation_id == invitation.pk
    assert "crashing" in row.text


# --- Threads without a token --------------------------------------------------------------------


def _no_token_reply_to(message_id: str) -> bytes:
    return eml("no_token.eml").replace(
        b"MIME-Version: 1.0\n", f"In-Reply-To: {message_id}\nMIME-Version: 1.0\n".encode(), 1
    )


def test_reply_to_a_ticket_message_finds_the_ticket_by_thread() -> None:
    ticket = TicketFactory(status=TicketStatus.PENDING)
    TicketMessageFactory(
        ticket=ticket, direction=MessageDirection.OUTBOUND, message_id="<t-1@reply.example.com>"
    )
    row = via_service(_no_token_reply_to("<t-1@reply.example.com>"))
    assert row.status == InboundStatus.MATCHED_TICKET
    assert ticket.messages.filter(direction=MessageDirection.INBOUND).count() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN  # "pending customer": the customer answered


def test_reply_to_a_survey_email_without_the_reply_to_finds_the_invitation() -> None:
    invitation = sent_invitation(token="y" * 43, message_id="")
    OutboundEmailFactory(invitation=invitation, message_id="<survey-2@reply.example.com>")
    raw = _no_token_reply_to("<survey-2@reply.example.com>").replace(
        b"Hi, could you tell me when order 10482 will ship?\n\nThanks,\nLiam\n", b"10\n"
    )
    row = via_service(raw)
    assert row.status == InboundStatus.SCORE_RECORDED
    assert Response.objects.get(invitation=invitation).score == 10


# --- Follow-ups, duplicates, failures -----------------------------------------------------------


def test_text_reply_to_a_recovery_follow_up_goes_to_its_ticket() -> None:
    ticket = TicketFactory(
        status=TicketStatus.RESOLVED, root_cause=RootCauseFactory(), resolved_at=timezone.now()
    )
    sent_invitation(
        purpose=InvitationPurpose.FOLLOWUP,
        interaction=None,
        ticket=ticket,
        customer=ticket.customer,
    )
    row = via_service(eml("gmail_reply.eml"))
    assert row.status == InboundStatus.MATCHED_TICKET
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_the_same_message_twice_is_recorded_once() -> None:
    response = answered_invitation()
    ticket = TicketFactory(response=response, customer=response.customer)
    first = via_service(eml("gmail_reply.eml"))
    second = via_service(eml("gmail_reply.eml"))
    assert first.status == InboundStatus.MATCHED_TICKET
    assert second.status == InboundStatus.DUPLICATE
    assert f"#{first.pk}" in second.note
    assert ticket.messages.count() == 1
    assert InboundEmail.objects.count() == 2  # both kept


def test_a_bug_while_processing_keeps_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    invitation = sent_invitation()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("feedback.inbound.services.response_record", broken)
    row = via_service(eml("bare_number.eml"))
    assert row.status == InboundStatus.ERROR
    assert "RuntimeError: boom" in row.note
    stored = InboundEmail.objects.get()
    assert bytes(stored.raw) == eml("bare_number.eml")
    assert stored.from_email == "mark.jones@icloud.com"
    assert stored.invitation_id is None  # the half-done match was rolled back
    assert not Response.objects.filter(invitation=invitation).exists()

    monkeypatch.undo()
    from feedback.inbound.services import inbound_email_process

    assert inbound_email_process(inbound_email_id=row.pk).status == InboundStatus.ERROR
    again = inbound_email_process(inbound_email_id=row.pk, again=True)
    assert again.status == InboundStatus.SCORE_RECORDED


def test_empty_input_is_refused_and_nothing_stored() -> None:
    with pytest.raises(EmptyMessage):
        via_service(b"  \r\n")
    with pytest.raises(CommandError) as refused:
        call_command("receive_email", stdin=io.BytesIO(b""))
    assert refused.value.returncode == 65
    assert "empty" in str(refused.value)
    assert not InboundEmail.objects.exists()


def test_empty_stdin_exits_non_zero_with_a_message() -> None:
    # A real pipe; empty input is refused before the database is touched.
    done = subprocess.run(
        [sys.executable, "manage.py", "receive_email"],
        input=b"",
        capture_output=True,
        cwd=settings.BASE_DIR,
        timeout=120,
        check=False,
    )
    assert done.returncode == 65
    assert b"Refused: The message is empty. Nothing was stored." in done.stderr


def test_oversized_message_keeps_a_truncated_copy(settings: Any) -> None:
    settings.CXCRM_INBOUND_MAX_BYTES = 1000
    raw = eml("with_attachment.eml")
    assert len(raw) > 1000
    row = via_service(raw)
    assert row.status == InboundStatus.TOO_LARGE
    assert bytes(row.raw) == raw[:1000]
    assert row.size == len(raw)
    assert row.from_email == "priya.patel@gmail.com"
    assert not Response.objects.exists()


def test_oversized_message_through_the_command_fails_but_is_kept(settings: Any) -> None:
    settings.CXCRM_INBOUND_MAX_BYTES = 1000
    raw = eml("with_attachment.eml")
    with pytest.raises(CommandError) as refused:
        call_command("receive_email", stdin=io.BytesIO(raw))
    assert refused.value.returncode == 65
    row = InboundEmail.objects.get()
    assert f"#{row.pk}" in str(refused.value)
    assert (row.size, len(bytes(row.raw))) == (len(raw), 1000)


def test_command_reads_a_file_and_takes_the_envelope_recipient(tmp_path: Path) -> None:
    invitation = sent_invitation()
    # The headers name no reply address; the MTA tells us which one it delivered to.
    raw = eml("bare_number.eml").replace(f"reply+{TOKEN}@{DOMAIN}".encode(), b"x@acme.example")
    raw = raw.replace(SURVEY_MESSAGE_ID.encode(), b"<unknown@example.com>")
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    call_command(
        "receive_email", str(path), "--recipient", f"reply+{TOKEN}@{DOMAIN}", stdout=io.StringIO()
    )
    row = InboundEmail.objects.get()
    assert row.status == InboundStatus.SCORE_RECORDED
    assert row.envelope_to == f"reply+{TOKEN}@{DOMAIN}"
    assert row.invitation_id == invitation.pk


# --- ticket_message_receive -----------------------------------------------------------------------


def test_ticket_message_on_an_open_ticket_changes_no_status() -> None:
    ticket = TicketFactory(status=TicketStatus.OPEN)
    ticket_message_receive(ticket_id=ticket.pk, body="Any news?", from_email="c@example.com")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_closed_ticket_reopens_and_keeps_its_root_cause() -> None:
    cause = RootCauseFactory()
    ticket = TicketFactory(status=TicketStatus.CLOSED, root_cause=cause, resolved_at=timezone.now())
    ticket_message_receive(ticket_id=ticket.pk, body="Still broken.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.root_cause_id) == ("open", None, cause.pk)
    assert TicketEvent.objects.get(ticket=ticket).from_value == "closed"


# --- The webhook (anymail, Postmark's inbound JSON) ---------------------------------------------


def _auth(value: str = SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(value.encode()).decode()}


def _post(payload: Any, **headers: str) -> Any:
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return Client().post(WEBHOOK_URL, body, content_type="application/json", **headers)


def _postmark_raw(name: str) -> dict[str, Any]:
    raw = eml(name)
    return {
        "RawEmail": raw.decode("utf-8"),
        "OriginalRecipient": f"reply+{TOKEN}@{DOMAIN}",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "Headers": [],
    }


def test_url_name() -> None:
    assert reverse("feedback:inbound-email") == WEBHOOK_URL


def test_webhook_with_the_raw_email_records_the_reply(celery_inline: Any) -> None:
    response = answered_invitation(comment="")
    with celery_inline():
        page = _post(_postmark_raw("apple_mail_reply.eml"), **_auth())
    assert page.status_code == 200
    row = InboundEmail.objects.get()
    assert (row.source, row.status) == (InboundSource.WEBHOOK, InboundStatus.MATCHED_RESPONSE)
    assert bytes(row.raw) == eml("apple_mail_reply.eml")
    assert row.envelope_to == f"reply+{TOKEN}@{DOMAIN}"
    response.refresh_from_db()
    assert "found my size" in response.comment


def test_webhook_with_postmark_parsed_fields_records_the_score(celery_inline: Any) -> None:
    invitation = sent_invitation()
    payload = {
        "FromFull": {"Email": "mark.jones@icloud.com", "Name": "Mark Jones"},
        "ToFull": [{"Email": f"reply+{TOKEN}@{DOMAIN}", "Name": "Acme Feedback"}],
        "CcFull": [],
        "BccFull": [],
        "OriginalRecipient": f"reply+{TOKEN}@{DOMAIN}",
        "Subject": "Re: How did we do?",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "Date": "Sat, 21 Nov 2026 10:03:12 +0000",
        "TextBody": "8\n\nOn 20 Nov 2026, at 10:00, Acme <feedback@acme.example> wrote:\n> Q?\n",
        "HtmlBody": "",
        "StrippedTextReply": "8",
        "Headers": [
            {"Name": "Return-Path", "Value": "<mark.jones@icloud.com>"},
            {"Name": "Message-ID", "Value": "<8F2E@icloud.com>"},
            {"Name": "In-Reply-To", "Value": SURVEY_MESSAGE_ID},
        ],
        "Attachments": [],
    }
    with celery_inline():
        assert _post(payload, **_auth()).status_code == 200
    assert Response.objects.get(invitation=invitation).score == 8
    assert InboundEmail.objects.get().status == InboundStatus.SCORE_RECORDED


@pytest.mark.parametrize("auth", [None, "inbound:wrong", "someone:else"])
def test_webhook_refuses_wrong_or_missing_auth_and_stores_nothing(auth: str | None) -> None:
    sent_invitation()
    page = _post(_postmark_raw("bare_number.eml"), **(_auth(auth) if auth else {}))
    assert page.status_code in (400, 401, 403)
    assert not InboundEmail.objects.exists()
    assert not Response.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"Attachments": [{"Name": "x"}]}'])
def test_webhook_malformed_payload_is_a_400(body: str) -> None:
    assert _post(body, **_auth()).status_code == 400
    assert not InboundEmail.objects.exists()


def test_webhook_refuses_oversized_requests_with_413(settings: Any) -> None:
    settings.CXCRM_INBOUND_MAX_BYTES = 1000
    page = _post(_postmark_raw("with_attachment.eml") | {"Pad": "x" * 4000}, **_auth())
    assert page.status_code == 413
    assert b"larger than" in page.content
    assert not InboundEmail.objects.exists()


def test_webhook_takes_messages_larger_than_djangos_upload_limit(
    settings: Any, celery_inline: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    answered_invitation()
    with celery_inline():
        assert _post(_postmark_raw("gmail_reply.eml"), **_auth()).status_code == 200
    assert InboundEmail.objects.get().status == InboundStatus.MATCHED_RESPONSE


def test_inbound_esp_is_chosen_by_setting() -> None:
    assert inbound_view_class("postmark").__name__ == "PostmarkInboundWebhookView"
    assert inbound_view_class("mailgun").__name__ == "MailgunInboundWebhookView"
    assert inbound_view_class("amazon-ses").__name__ == "AmazonSESInboundWebhookView"
    for bad in ("nonsense", "../postmark", ""):
        with pytest.raises(ImproperlyConfigured):
            inbound_view_class(bad)


# --- The admin ----------------------------------------------------------------------------------


def test_unmatched_mail_is_listed_first_in_the_admin(admin_client: Client) -> None:
    answered_invitation()
    via_service(eml("gmail_reply.eml"))
    unmatched = via_service(eml("no_token.eml"))
    url = reverse("admin:feedback_inboundemail_changelist")
    page = admin_client.get(url, {"status": "attention"})
    assert page.status_code == 200
    assert [row.pk for row in page.context["cl"].result_list] == [unmatched.pk]
    page = admin_client.get(url, {"status": "unmatched"})
    assert [row.pk for row in page.context["cl"].result_list] == [unmatched.pk]
    choices = [c["display"] for c in page.context["cl"].filter_specs[0].choices(page.context["cl"])]
    assert choices[1:3] == ["Needs attention", "Unmatched (no token, no thread)"]


def test_admin_changelist_queries_do_not_grow_with_rows(admin_client: Client) -> None:
    url = reverse("admin:feedback_inboundemail_changelist")

    def queries() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as ctx:
            page = admin_client.get(url)
        assert page.status_code == 200
        ours = [q["sql"] for q in ctx.captured_queries if "feedback_inboundemail" in q["sql"]]
        return len(ctx), ours

    answered_invitation()
    via_service(eml("gmail_reply.eml"))
    admin_client.get(url)  # warms per-process caches of the auth stack
    few, ours = queries()
    for n in range(5):
        via_service(eml("no_token.eml").replace(b"GA12345", f"GB{n}".encode()))
    many, ours_many = queries()
    assert few == many
    # The session and the user, then ours: 1 the capped COUNT, 2 the page joined with the
    # invitation's customer and the ticket (no date hierarchy: a recent-days filter instead).
    assert len(ours) == len(ours_many) == 2
    page_sql = ours[1]
    assert "customers_customer" in page_sql and "feedback_ticket" in page_sql
    assert '"feedback_inboundemail"."raw"' not in page_sql  # megabytes each: deferred


def test_admin_page_escapes_raw_and_text(admin_client: Client) -> None:
    raw = (
        b"From: x@example.com\nTo: y@example.com\nSubject: <script>alert(1)</script>\n\n"
        b"<img src=x onerror=alert(2)> hello\n"
    )
    row = via_service(raw)
    page = admin_client.get(reverse("admin:feedback_inboundemail_change", args=[row.pk]))
    assert page.status_code == 200
    assert b"<script>alert(1)" not in page.content
    assert b"<img src=x" not in page.content
    assert b"&lt;img src=x onerror=alert(2)&gt; hello" in page.content
    assert b'name="_save"' not in page.content  # view-only
    assert admin_client.get(reverse("admin:feedback_inboundemail_add")).status_code == 403


def test_a_reply_that_reopens_a_ticket_tells_integrators_like_a_staff_reopen() -> None:
    # One rule for reopening: by a reply, by staff or by the API, the same event and webhook.
    from cxcrm.models import WebhookDelivery
    from cxcrm.webhooks.services import webhook_endpoint_create

    webhook_endpoint_create(url="https://hooks.example.com/cx", events=["ticket.updated"])
    ticket = TicketFactory(
        status=TicketStatus.RESOLVED, root_cause=RootCauseFactory(), resolved_at=timezone.now()
    )
    ticket_message_receive(ticket_id=ticket.pk, body="It broke again.")
    delivery = WebhookDelivery.objects.get(event="ticket.updated")
    assert delivery.payload["data"]["id"] == ticket.pk
    assert delivery.payload["data"]["status"] == "open"
