"""Staff's side in a real browser: Debian's Chromium driven by Playwright against a live server.
An agent signs in, opens the triage queue, takes a detractor's ticket, replies (the email is
caught by a real SMTP server, threaded under the survey email) and resolves it with a root
cause."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client, override_settings
from django.utils import timezone

from feedback.inbound.models import InboundEmail, InboundSource, InboundStatus
from feedback.surveys.models import EmailKind, EmailStatus, OutboundEmail
from feedback.surveys.services.sending import outbound_email_send
from feedback.tickets.models import Ticket, TicketStatus
from feedback.tickets.services import AGENT_GROUP, ticket_sync_for_response
from tests.browser import launch_browser, shot
from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)
from tests.smtp import SmtpSink, smtp_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
SURVEY_MESSAGE_ID = "<survey-4711@cx.example>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # a desk
    tab = context.new_page()
    yield tab
    context.close()


def _agent() -> Any:
    """A staff member with the Agent role. The group is made here too: a transactional test
    may run after another one flushed the rows the roles migration created."""
    agent = UserFactory(username="tess", email="tess@cx.example", first_name="Tess")
    group, _ = Group.objects.get_or_create(name=AGENT_GROUP)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="feedback",
            codename__in=["view_ticket", "change_ticket", "view_rootcause", "view_response"],
        )
    )
    return agent, group


def _detractor_ticket() -> Ticket:
    customer = CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    response = ResponseFactory(
        score=2,
        comment="The parcel came two days late and the box was crushed.",
        invitation=InvitationFactory(
            customer=customer,
            interaction__customer=customer,
            interaction__touchpoint=TouchpointFactory(name="Home delivery", slug="delivery"),
            message_id=SURVEY_MESSAGE_ID,
            state="responded",
        ),
    )
    result = ticket_sync_for_response(response_id=response.pk)
    assert result.created and result.ticket is not None
    return result.ticket


def _other_work() -> None:
    now = timezone.now()
    TicketFactory(subject="Refund not received", priority=3, due_at=now - timedelta(hours=3))
    TicketFactory(subject="Rude driver", priority=2, due_at=now + timedelta(hours=2))
    TicketFactory(subject="App crashed at checkout", priority=1, due_at=now + timedelta(days=2))
    TicketFactory(subject="Late pizza", priority=4, due_at=now + timedelta(hours=20))


def test_an_agent_works_a_detractor_ticket_from_queue_to_resolution(live_server, page) -> None:  # type: ignore[no-untyped-def]
    agent, group = _agent()
    ticket = _detractor_ticket()  # before the agent joins the role: it starts unassigned
    assert ticket.assignee is None
    agent.groups.add(group)
    _other_work()
    RootCauseFactory(name="Courier delay")

    # Sign in through the staff sign-in page (email and password).
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "tess@cx.example")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form").get_by_role("button").last.click()
    page.wait_for_url(re.compile(r"/admin/$"))

    # The queue (its address is the ticket changelist's): open tickets, the most urgent first,
    # overdue highlighted.
    page.goto(f"{live_server.url}/admin/queue/")
    page.wait_for_url(re.compile(r"/admin/feedback/ticket/$"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 5
    # Overdue and nobody has contacted the customer: first, above the higher priorities.
    assert "Refund not received" in rows.first.inner_text()
    assert page.locator("#result_list .cx-sla--overdue").count() == 1
    shot(page, "triage-queue")

    # Take the ticket with the bulk action "Assign to me".
    page.check(f"input[name=_selected_action][value='{ticket.pk}']")
    page.select_option("select[name=action]", "assign_to_me")
    page.locator("button[name=index]").first.click()
    page.wait_for_load_state("load")
    assert page.get_by_text("Assigned 1 ticket to tess.").is_visible()
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.events.filter(action="assignee", to_value="tess", actor=agent).exists()

    # The ticket page.
    page.get_by_role("link", name=re.compile(rf"#{ticket.pk} ")).click()
    page.wait_for_url(re.compile(rf"/admin/feedback/ticket/{ticket.pk}/change/"))
    assert page.get_by_text("The parcel came two days late").first.is_visible()
    assert page.get_by_role("heading", name=re.compile(r"^Story")).is_visible()

    # Reply: queued as an OutboundEmail, sent (as the worker would) to a real SMTP server.
    with SmtpSink() as smtp, override_settings(**smtp_settings(smtp)):
        page.fill(
            "textarea[name=body] >> nth=0", "Dear Ada, we are sorry. A new box is on its way."
        )
        page.get_by_role("button", name="Send reply").click()
        page.wait_for_load_state("load")
        assert page.get_by_text("Reply queued to ada@example.com.").is_visible()
        email = OutboundEmail.objects.get(ticket=ticket, kind=EmailKind.TICKET_REPLY)
        if email.status == EmailStatus.QUEUED:
            outbound_email_send(email_id=email.pk)
        [message] = smtp.messages
    assert message["To"] == "ada@example.com"
    assert message["Message-ID"] == email.message_id
    assert message["In-Reply-To"] == SURVEY_MESSAGE_ID
    assert SURVEY_MESSAGE_ID in message["References"]
    assert "A new box is on its way." in message.get_body(("plain",)).get_content()
    ticket.refresh_from_db()
    assert ticket.first_contact_at is not None
    assert ticket.status == TicketStatus.PENDING

    page.locator("#cx-note-box summary").click()
    page.fill("#cx-note-body", "Offered a voucher too, if she replies.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state("load")
    page.reload()
    shot(page, "triage-ticket")

    # Resolve with a root cause and a follow-up survey (a step of its own, folded away).
    page.locator("#cx-resolve summary").click()
    page.select_option("select[name=root_cause]", label="Courier delay")
    page.fill("textarea[name=resolution]", "Sent a replacement by express.")
    page.get_by_role("button", name="Resolve ticket").click()
    page.wait_for_load_state("load")
    assert page.get_by_text(re.compile(r"Resolved \(root cause: Courier delay\)")).is_visible()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.root_cause.name == "Courier delay"
    assert ticket.followup_invitations.count() == 1
    assert page.get_by_role("button", name="Reopen").is_visible()
    shot(page, "triage-ticket-resolved")


def _signed_in(browser: Any, live_server: Any, user: Any, width: int, height: int) -> Any:
    """A tab of a new context at this size, signed in as ``user`` by session cookie (the
    sign-in page itself is covered above)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def test_queue_leads_with_the_overdue_uncontacted_ticket_and_mail_becomes_a_ticket(
    live_server, browser
) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory(username="uma", password=None, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_ticket",
                "add_ticket",
                "change_ticket",
                "view_inboundemail",
                "view_customer",
                "change_customer",
                "view_response",
            ]
        )
    )
    now = timezone.now()
    ana = CustomerFactory(
        name="Ana Souza",
        email="ana@shop.example",
        language="pl",
        segment="vip",
        tags=["gold"],
        attributes={"plan": "pro", "city": "Kraków"},
    )
    TicketFactory(
        subject="Urgent, already called back",
        priority=4,
        due_at=now - timedelta(hours=6),
        first_contact_at=now - timedelta(hours=7),
    )
    TicketFactory(subject="Late pizza", priority=4, due_at=now + timedelta(hours=20))
    overdue = TicketFactory(
        subject="لم يصل الطرد", customer=ana, priority=1, due_at=now - timedelta(hours=1)
    )
    ResponseFactory(invitation__interaction__customer=ana, score=3, comment="Box was wet.")
    mail = InboundEmail.objects.create(
        source=InboundSource.COMMAND,
        status=InboundStatus.UNMATCHED,
        from_email="ana@shop.example",
        subject="Where is my order?",
        message_id="<where-1@shop.example>",
        raw=b"Subject: Where is my order?\r\n\r\nOrder 1042 has not arrived.\r\n",
        text="Order 1042 has not arrived.",
    )

    laptop = _signed_in(browser, live_server, user, 1366, 768)
    laptop.goto(f"{live_server.url}/admin/queue/")
    first = laptop.locator("#result_list tbody tr").first
    assert f"#{overdue.pk} " in first.inner_text()
    shot(laptop, "queue-laptop")

    # The unmatched mail, made a ticket from the inbound list.
    laptop.goto(f"{live_server.url}/admin/feedback/inboundemail/")
    laptop.check(f"input[name=_selected_action][value='{mail.pk}']")
    laptop.select_option("select[name=action]", "create_ticket")
    laptop.locator("button[name=index]").first.click()
    laptop.get_by_text("1 email recorded on ticket").wait_for()
    made = Ticket.objects.get(subject="Where is my order?")
    assert made.customer == ana and made.messages.get().body == "Order 1042 has not arrived."

    laptop.goto(f"{live_server.url}/admin/customers/customer/{ana.pk}/change/")
    laptop.locator("#cx-panel-tickets").get_by_text("Where is my order?").wait_for()
    assert laptop.get_by_text("Box was wet.").is_visible()
    shot(laptop, "customer-laptop")
    laptop.context.close()

    phone = _signed_in(browser, live_server, user, 390, 844)
    phone.goto(f"{live_server.url}/admin/queue/")
    card = phone.locator("#result_list tbody tr").first
    assert f"#{overdue.pk} " in card.inner_text()
    # The card leads with the SLA; the filters wait behind their toggle.
    sla = card.locator(".field-sla").bounding_box()
    subject = card.locator(".field-ticket").bounding_box()
    assert sla is not None and subject is not None and sla["y"] < subject["y"]
    assert phone.locator("#cx-queue-filters:not([open])").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "queue-phone")
    phone.context.close()
