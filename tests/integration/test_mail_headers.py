"""Names and subjects never lose email, and a reply is contact only once a server accepted it:
end to end on PostgreSQL, Redis, real `celery worker`/`celery beat` processes and an aiosmtpd
server (tests/smtp.py) that the test starts, stops and makes refuse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer
from feedback.surveys.models import EmailKind, EmailStatus, Invitation, OutboundEmail, Survey
from feedback.surveys.services.responses import response_record
from feedback.tickets.models import Ticket, TicketSource, TicketStatus
from feedback.tickets.services import ticket_reply
from tests.factories import UserFactory
from tests.integration.conftest import wait_for
from tests.smtp import SmtpSink, free_port
from touchpoints.models import Touchpoint
from touchpoints.services import interaction_record

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

INJECTED = "Ann\r\nBcc: x@evil.example"
FAST = {
    "CXCRM_DISPATCH_INTERVAL_SECONDS": "1",
    "CXCRM_DISPATCH_RETRY_BASE_SECONDS": "1",
    "CXCRM_DISPATCH_RETRY_MAX_SECONDS": "4",
}


def _customer(name: str, email: str) -> Customer:
    # Straight into the table, as rows stored before control characters were refused.
    return Customer.objects.create(external_id=email, email=email, name=name, language="en")


def _hand_made_ticket(customer: Customer, subject: str) -> Ticket:
    return Ticket.objects.create(
        customer=customer,
        subject=subject,
        source=TicketSource.STAFF,
        due_at=timezone.now() + timedelta(hours=48),
    )


def _reply_email(ticket: Ticket) -> OutboundEmail:
    return OutboundEmail.objects.get(ticket=ticket, kind=EmailKind.TICKET_REPLY)


def _assert_clean(message: object, subject: str) -> None:
    assert message["Subject"] == subject  # type: ignore[index]
    assert message["Bcc"] is None  # type: ignore[index]
    assert "x@evil.example" not in str(message["To"])  # type: ignore[index]


def test_older_names_and_subjects_with_line_breaks_still_get_their_email(
    celery_worker,  # type: ignore[no-untyped-def]
) -> None:
    owner = UserFactory(username="owner", email="owner@staff.example.com")
    checkout = Touchpoint.objects.create(
        name="Checkout", slug="checkout", stage="order", channel="web", owner=owner
    )
    Survey.objects.create(
        name="NPS",
        slug="nps",
        kind="nps",
        trigger_stage="order",
        delay=timedelta(0),
        texts={"en": {"subject": "How was it?\r\nBcc: x@evil.example"}},
    )
    ann = _customer(INJECTED, "ann@example.com")
    interaction_record(
        customer=ann,
        touchpoint=checkout,
        occurred_at=timezone.now(),
        source="shop",
        external_id="o-1",
    )
    with SmtpSink() as smtp:
        env = {**FAST, "EMAIL_URL": smtp.url}
        celery_worker(name="w", env=env)
        celery_worker(name="beat", beat=True, env=env)

        # The survey: its subject from older survey texts.
        wait_for(lambda: len(smtp.messages) == 1, timeout=120, every=0.2)
        [survey_email] = smtp.messages
        _assert_clean(survey_email, "How was it? Bcc: x@evil.example")
        assert smtp.envelopes[0][1] == ["ann@example.com"]
        assert "Ann" in survey_email.get_body(("plain",)).get_content()

        # A detractor answer: the ticket's subject and the owner's alert carry Ann's name.
        invitation = Invitation.objects.get(customer=ann)
        response_record(invitation_id=invitation.pk, score=0)
        wait_for(lambda: len(smtp.messages) == 2, timeout=120, every=0.2)
        alert = smtp.messages[1]
        ticket = Ticket.objects.get(response__invitation=invitation)
        assert ticket.subject == "NPS 0 from Ann Bcc: x@evil.example at Checkout"
        _assert_clean(alert, f"[cxcrm] #{ticket.pk} NPS 0 from Ann Bcc: x@evil.example at Checkout")
        assert smtp.envelopes[1][1] == ["owner@staff.example.com"]

        # A hand-made ticket whose subject was stored with a line break: the reply goes.
        by_hand = _hand_made_ticket(ann, "Refund\r\nBcc: x@evil.example")
        ticket_reply(ticket_id=by_hand.pk, body="Your refund is on its way.", actor=owner)
        wait_for(lambda: len(smtp.messages) == 3, timeout=120, every=0.2)
        reply = smtp.messages[2]
        _assert_clean(reply, "Re: Refund Bcc: x@evil.example")
        assert smtp.envelopes[2][1] == ["ann@example.com"]
        assert reply["Message-ID"] == _reply_email(by_hand).message_id

    statuses = set(OutboundEmail.objects.values_list("status", flat=True))
    assert statuses == {EmailStatus.SENT}
    by_hand.refresh_from_db()
    assert by_hand.first_contact_at == _reply_email(by_hand).sent_at is not None


def test_a_reply_is_contact_only_once_a_server_accepts_it(
    celery_worker,  # type: ignore[no-untyped-def]
) -> None:
    agent = UserFactory(username="agent", email="agent@staff.example.com")
    refused = _hand_made_ticket(_customer("Bob", "bob@example.com"), "Broken lid")
    delayed = _hand_made_ticket(_customer("Cy", "cy@example.com"), "Late parcel")
    port = free_port()
    celery_worker(name="w", env={**FAST, "EMAIL_URL": f"smtp://127.0.0.1:{port}"})

    # The mail server is down: the reply is queued and retried, the customer has nothing yet.
    replied_at = timezone.now()
    ticket_reply(ticket_id=delayed.pk, body="It ships today.", actor=agent)
    tried = OutboundEmail.objects.filter(ticket=delayed, status=EmailStatus.QUEUED).exclude(
        error=""
    )
    wait_for(tried.exists, timeout=60, every=0.2)
    delayed.refresh_from_db()
    assert delayed.first_contact_at is None and delayed.status == TicketStatus.NEW

    with SmtpSink(port=port) as smtp:
        smtp.refuse(lambda address: address == "bob@example.com", "550 5.1.1 No such mailbox")
        # The server refuses Bob's reply for good.
        ticket_reply(ticket_id=refused.pk, body="A new lid is coming.", actor=agent)
        wait_for(lambda: _reply_email(refused).status == EmailStatus.BOUNCED, timeout=60, every=0.2)
        # Cy's reply goes through on a retry, with the server back.
        wait_for(lambda: _reply_email(delayed).status == EmailStatus.SENT, timeout=60, every=0.2)
        assert [m["To"] for m in smtp.messages] == ["cy@example.com"]

    refused.refresh_from_db()
    assert refused.first_contact_at is None and refused.status == TicketStatus.NEW
    assert not refused.events.filter(action="contacted").exists()
    assert _reply_email(refused).error.startswith("550")
    # The SLA clock still runs for Bob: past the deadline the ticket is overdue.
    assert Ticket.objects.overdue(refused.due_at + timedelta(minutes=1)).filter(pk=refused.pk)

    delayed.refresh_from_db()
    accepted = _reply_email(delayed)
    assert delayed.first_contact_at == accepted.sent_at
    assert delayed.first_contact_at > replied_at
    assert delayed.status == TicketStatus.PENDING
    assert delayed.events.get(action="contacted").actor == agent
    assert not Ticket.objects.overdue(delayed.due_at + timedelta(minutes=1)).filter(pk=delayed.pk)


def test_a_reply_to_a_chinese_customer_threads_under_their_survey_in_chinese(
    celery_worker,  # type: ignore[no-untyped-def]
) -> None:
    agent = UserFactory(
        username="lina", email="lina@staff.example.com", first_name="Lina", last_name="Berg"
    )
    checkout = Touchpoint.objects.create(
        name="Checkout", slug="checkout", stage="order", channel="web", owner=agent
    )
    Survey.objects.create(
        name="NPS",
        slug="nps",
        kind="nps",
        trigger_stage="order",
        delay=timedelta(0),
        texts={"en": {"subject": "How was your order?"}, "zh-hans": {"subject": "订单体验如何？"}},
    )
    mei = Customer.objects.create(
        external_id="mei", email="mei@example.com", name="王美", language="zh-hans"
    )
    interaction_record(
        customer=mei,
        touchpoint=checkout,
        occurred_at=timezone.now(),
        source="shop",
        external_id="o-9",
    )
    with SmtpSink() as smtp:
        env = {**FAST, "EMAIL_URL": smtp.url}
        celery_worker(name="w", env=env)
        celery_worker(name="beat", beat=True, env=env)
        to_mei = [m for m in smtp.messages if m["To"] == "mei@example.com"]

        def mei_has(count: int) -> bool:
            to_mei[:] = [m for m in smtp.messages if m["To"] == "mei@example.com"]
            return len(to_mei) >= count

        wait_for(lambda: mei_has(1), timeout=120, every=0.2)
        survey_email = to_mei[0]
        assert survey_email["Subject"] == "订单体验如何？"

        invitation = Invitation.objects.get(customer=mei)
        response_record(invitation_id=invitation.pk, score=1)
        # The worker opens the ticket after the answer's commit.
        opened = Ticket.objects.filter(response__invitation=invitation)
        wait_for(opened.exists, timeout=120, every=0.2)
        ticket = opened.get()
        ticket_reply(ticket_id=ticket.pk, body="非常抱歉，新的包裹已经寄出。", actor=agent)
        reply_id = _reply_email(ticket).message_id
        wait_for(
            lambda: mei_has(1) and any(m["Message-ID"] == reply_id for m in to_mei),
            timeout=120,
            every=0.2,
        )
        [reply] = [m for m in to_mei if m["Message-ID"] == reply_id]

    assert reply["Subject"] == "Re: 订单体验如何？"
    assert reply["In-Reply-To"] == survey_email["Message-ID"]
    text = reply.get_body(("plain",)).get_content()
    html = reply.get_body(("html",)).get_content()
    assert "非常抱歉，新的包裹已经寄出。" in text
    for body in (text, html):
        assert "Lina Berg" in body
        assert "cxcrm 客户服务团队" in body
    assert '<html lang="zh-hans" dir="ltr">' in html
