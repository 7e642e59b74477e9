"""Services that stamp the time take ``now=`` so a history can be replayed through them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customers.models import SuppressionReason
from customers.services import customer_suppress, customer_unsubscribe
from feedback.surveys.models import OutboundEmail
from feedback.surveys.services.sending import outbound_email_send
from feedback.tickets.models import TicketStatus
from feedback.tickets.services import (
    ticket_assign,
    ticket_log_contact,
    ticket_message_receive,
    ticket_note,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_set_status,
)
from tests.factories import CustomerFactory, RootCauseFactory, TicketFactory, UserFactory

THEN = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_consent_services_date_the_change() -> None:
    one, two = CustomerFactory(), CustomerFactory()

    customer_unsubscribe(customer=one, now=THEN)
    customer_suppress(customer_id=two.pk, reason=SuppressionReason.COMPLAINT, now=THEN)

    one.refresh_from_db()
    two.refresh_from_db()
    assert one.unsubscribed_at == THEN
    assert two.suppressed_at == THEN


@pytest.mark.django_db
def test_ticket_services_date_their_messages_events_and_emails() -> None:
    agent = UserFactory(is_staff=True, email="agent@example.com")
    other = UserFactory(is_staff=True, email="other@example.com")
    ticket = TicketFactory(assignee=agent, status=TicketStatus.NEW)
    hour = timedelta(hours=1)

    ticket_assign(ticket_id=ticket.pk, assignee=other, actor=agent, now=THEN)
    ticket_set_status(ticket_id=ticket.pk, status=TicketStatus.OPEN, actor=other, now=THEN)
    reply = ticket_reply(ticket_id=ticket.pk, body="Sorry!", actor=other, now=THEN + hour)
    # Contact is dated by the server's acceptance of the reply, here a minute later.
    email = OutboundEmail.objects.get(message_id=reply.message_id)
    outbound_email_send(email_id=email.pk, now=THEN + hour + timedelta(minutes=1))
    ticket_note(ticket_id=ticket.pk, body="Checked.", actor=other, now=THEN + 2 * hour)
    ticket_log_contact(ticket_id=ticket.pk, actor=other, note="Called.", now=THEN + 2 * hour)
    ticket_resolve(
        ticket_id=ticket.pk, root_cause=RootCauseFactory(), actor=other, now=THEN + 3 * hour
    )
    ticket_message_receive(ticket_id=ticket.pk, body="Still broken.", now=THEN + 4 * hour)
    ticket_resolve(
        ticket_id=ticket.pk, root_cause=RootCauseFactory(), actor=other, now=THEN + 5 * hour
    )
    ticket_reopen(ticket_id=ticket.pk, actor=other, now=THEN + 6 * hour)

    ticket.refresh_from_db()
    assert ticket.first_contact_at == THEN + hour + timedelta(minutes=1)
    assert reply.created_at == THEN + hour
    events = list(ticket.events.values_list("created_at", flat=True))
    assert events and all(THEN <= at <= THEN + 6 * hour for at in events)
    messages = list(ticket.messages.values_list("created_at", flat=True))
    assert messages and all(THEN <= at <= THEN + 4 * hour for at in messages)
    emails = list(OutboundEmail.objects.filter(ticket=ticket).values_list("created_at", flat=True))
    assert emails and all(THEN <= at <= THEN + hour for at in emails)
