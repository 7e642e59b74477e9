"""Unmatched inbound email made into a ticket by staff ("Create ticket", "Attach to
customer" in the inbound admin): the mail is recorded on a ticket as the customer's first
message, the row is linked and marked handled, and bad input is a message, never lost mail."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from feedback.inbound.models import InboundEmail, InboundSource, InboundStatus
from feedback.inbound.services import InboundHandlingError, inbound_email_create_ticket
from feedback.tickets.models import MessageDirection, Ticket, TicketSource, TicketStatus
from tests.factories import CustomerFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:feedback_inboundemail_changelist")


def member(group: str) -> Any:
    user = UserFactory(username=f"{group.lower()}-user", password=None)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def unmatched(
    sender: str = "Ana@Shop.example", subject: str = "Where is my order?", **kw: Any
) -> InboundEmail:
    values: dict[str, Any] = {
        "source": InboundSource.COMMAND,
        "status": InboundStatus.UNMATCHED,
        "from_email": sender,
        "subject": subject,
        "message_id": "<m1@mail.example>",
        "raw": b"Subject: Where is my order?\r\n\r\nOrder 1042 has not arrived.\r\n",
        "text": "Order 1042 has not arrived.",
        **kw,
    }
    return InboundEmail.objects.create(**values)


def messages_of(page: Any) -> list[str]:
    return [str(m) for m in page.context["messages"]]


def test_create_ticket_finds_the_customer_by_the_senders_address() -> None:
    customer = CustomerFactory(email="ana@shop.example")
    row = unmatched()
    agent = member("Agent")

    page = agent.post(
        CHANGELIST, {"action": "create_ticket", "_selected_action": [row.pk]}, follow=True
    )

    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.subject, ticket.source, ticket.status) == (
        customer,
        "Where is my order?",
        TicketSource.EMAIL,
        TicketStatus.NEW,
    )
    first = ticket.messages.get()
    assert (first.direction, first.body, first.message_id) == (
        MessageDirection.INBOUND,
        "Order 1042 has not arrived.",
        "<m1@mail.example>",
    )
    row.refresh_from_db()
    assert (row.ticket, row.status) == (ticket, InboundStatus.MATCHED_TICKET)
    assert f"1 email recorded on ticket #{ticket.pk}" in " ".join(messages_of(page)).replace(
        f'<a href="{reverse("admin:feedback_ticket_change", args=[ticket.pk])}">', ""
    ).replace("</a>", "")


def test_create_ticket_for_an_unknown_sender_adds_the_customer_only_for_who_may() -> None:
    row = unmatched(sender="new@shop.example")

    page = member("Agent").post(
        CHANGELIST, {"action": "create_ticket", "_selected_action": [row.pk]}, follow=True
    )
    assert "Attach to customer" in " ".join(messages_of(page))
    assert not Ticket.objects.exists() and not Customer.objects.exists()
    row.refresh_from_db()
    assert (row.status, row.ticket) == (InboundStatus.UNMATCHED, None)

    # The Admin role must sign in with MFA: the same rights, given directly.
    admin = UserFactory(password=None, is_staff=True)
    admin.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_inboundemail", "add_ticket", "change_ticket", "add_customer"]
        )
    )
    client = Client()
    client.force_login(admin)
    client.post(CHANGELIST, {"action": "create_ticket", "_selected_action": [row.pk]})
    assert Ticket.objects.get().customer.email == "new@shop.example"


def test_a_handled_or_unreadable_message_is_refused_with_a_message() -> None:
    CustomerFactory(email="ana@shop.example")
    row = unmatched()
    inbound_email_create_ticket(inbound_email_id=row.pk, actor=None)
    with pytest.raises(InboundHandlingError, match="already on ticket"):
        inbound_email_create_ticket(inbound_email_id=row.pk, actor=None)
    bad = unmatched(sender="not an address", message_id="<m2@x>")
    with pytest.raises(InboundHandlingError, match="not an email address"):
        inbound_email_create_ticket(inbound_email_id=bad.pk, actor=None, may_add_customer=True)
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.count() == 2  # never lost


def test_attach_to_customer_asks_then_adds_the_mail_to_their_open_ticket() -> None:
    customer = CustomerFactory(email="ana@shop.example")
    open_ticket = TicketFactory(customer=customer, status=TicketStatus.PENDING)
    row = unmatched(sender="ana.private@mail.example")
    agent = member("Agent")

    form = agent.post(CHANGELIST, {"action": "attach_to_customer", "_selected_action": [row.pk]})
    assert form.status_code == 200 and b"Customer (number or email address)" in form.content

    wrong = agent.post(
        CHANGELIST,
        {
            "action": "attach_to_customer",
            "_selected_action": [row.pk],
            "apply": "yes",
            "customer": "nobody@x.example",
        },
    )
    assert b"No customer has the address nobody@x.example" in wrong.content
    agent.post(
        CHANGELIST,
        {
            "action": "attach_to_customer",
            "_selected_action": [row.pk],
            "apply": "yes",
            "customer": str(customer.pk),
        },
    )

    row.refresh_from_db()
    open_ticket.refresh_from_db()
    assert row.ticket == open_ticket and row.status == InboundStatus.MATCHED_TICKET
    assert open_ticket.messages.get().body == "Order 1042 has not arrived."
    assert open_ticket.status == TicketStatus.OPEN  # the customer wrote: pending wakes up


def test_attach_to_a_customer_without_an_open_ticket_opens_one() -> None:
    customer = CustomerFactory(email="ana@shop.example")
    row = unmatched()

    member("Agent").post(
        CHANGELIST,
        {
            "action": "attach_to_customer",
            "_selected_action": [row.pk],
            "apply": "yes",
            "customer": "ANA@shop.example",
        },
    )

    ticket = Ticket.objects.get()
    assert ticket.customer == customer and ticket.subject == "Where is my order?"


def test_the_actions_are_for_ticket_workers() -> None:
    row = unmatched()
    user = UserFactory(password=None, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_inboundemail"))
    client = Client()
    client.force_login(user)
    page = client.get(CHANGELIST)
    actions = [v for v, _label in page.context["action_form"].fields["action"].choices]
    assert "create_ticket" not in actions and "attach_to_customer" not in actions
    client.post(CHANGELIST, {"action": "create_ticket", "_selected_action": [row.pk]})
    assert not Ticket.objects.exists()
