"""The ticket workspace in a real browser at a laptop's 1366×768 and a phone's 390×844: the
reply box is on screen without scrolling, a saved reply is picked (its placeholders filled),
sent, and reaches a real SMTP server with that text; "j" opens the next ticket of the queue;
"?" shows the shortcuts. One browser, one sign-in (a session cookie), three page loads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.utils import timezone

from feedback.surveys.emails import invitation_subject
from feedback.surveys.models import EmailKind, EmailStatus, OutboundEmail
from feedback.surveys.services.sending import outbound_email_send
from feedback.tickets.models import SavedReply, Ticket
from feedback.tickets.services import ticket_sync_for_response
from tests.browser import launch_browser, shot
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)
from tests.smtp import SmtpSink, smtp_settings
from touchpoints.models import JourneyStage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


def _signed_in(browser: Any, live_server: Any, user: Any, viewport: dict[str, int]) -> Any:
    """A tab with the user's session (the sign-in page has its own browser tests)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def _world() -> tuple[Any, Ticket, Ticket]:
    agent = UserFactory(username="tess", first_name="Tess", last_name="Ray", password=None)
    agent.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="feedback",
            codename__in=["view_ticket", "change_ticket", "view_savedreply", "view_rootcause"],
        )
    )
    customer = CustomerFactory(name="Zofia Nowak", email="zofia@example.com", language="pl")
    response = ResponseFactory(
        score=2,
        comment="Paczka przyszła dwa dni po terminie, pudełko było zgniecione.",
        invitation=InvitationFactory(
            customer=customer,
            interaction=InteractionFactory(customer=customer, order_ref="ORD-4711"),
            state="responded",
        ),
    )
    # Browsing before the order: the page folds it into one line.
    browsing = TouchpointFactory(name="Product page", slug="pp", stage=JourneyStage.ENGAGEMENT)
    start = timezone.now() - timedelta(days=4)
    for minute in range(8):
        InteractionFactory(
            customer=customer, touchpoint=browsing, occurred_at=start + timedelta(minutes=minute)
        )
    result = ticket_sync_for_response(response_id=response.pk)
    assert result.ticket is not None
    # Later in the queue under any order (lower priority, later deadline): the next one.
    after = TicketFactory(
        subject="Coupon not applied", priority=1, due_at=timezone.now() + timedelta(days=9)
    )
    SavedReply.objects.create(name="Late parcel (EN)", language="en", body="Hi {customer_name}")
    SavedReply.objects.create(
        name="Spóźniona paczka",
        language="pl",
        body="Dzień dobry {customer_name}, przepraszamy za zamówienie {order}. — {agent}",
    )
    return agent, result.ticket, after


def _reply_box_on_screen(tab: Any, height: int) -> None:
    box = tab.locator("#cx-reply-form textarea").bounding_box()
    assert box is not None and box["y"] >= 0
    assert box["y"] + box["height"] <= height, box


def test_reply_box_saved_reply_to_smtp_and_next_ticket(browser: Any, live_server: Any) -> None:
    agent, ticket, after = _world()
    url = f"{live_server.url}/admin/feedback/ticket/{ticket.pk}/change/"

    laptop = _signed_in(browser, live_server, agent, LAPTOP)
    tab = laptop.new_page()
    tab.goto(url)
    _reply_box_on_screen(tab, LAPTOP["height"])
    # The customer's language first in the picker.
    options = tab.locator("#cx-saved-reply option").all_inner_texts()
    assert options[1].startswith("Spóźniona paczka")
    assert tab.get_by_text("8 page views and visits: Product page").is_visible()
    shot(tab, "workspace-laptop")

    tab.select_option("#cx-saved-reply", label="Spóźniona paczka · pl")
    text = "Dzień dobry Zofia Nowak, przepraszamy za zamówienie ORD-4711. — Tess Ray"
    box = tab.locator("#cx-reply-form textarea")
    assert box.input_value() == text
    with SmtpSink() as smtp, override_settings(**smtp_settings(smtp)):
        tab.get_by_role("button", name="Send reply").click()
        tab.wait_for_url(re.compile(rf"/ticket/{ticket.pk}/change/$"))
        tab.get_by_text("Reply queued to zofia@example.com.").wait_for()
        email = OutboundEmail.objects.get(ticket=ticket, kind=EmailKind.TICKET_REPLY)
        if email.status == EmailStatus.QUEUED:  # as the worker would
            outbound_email_send(email_id=email.pk)
        [message] = smtp.messages
    assert message["To"] == "zofia@example.com"
    plain = message.get_body(("plain",)).get_content()
    assert text in plain
    # In the customer's language, threaded by subject under the Polish survey email she got.
    language, survey_subject = invitation_subject(ticket.response.invitation)
    assert language == "pl"
    assert message["Subject"] == f"Re: {survey_subject}"
    assert "Obsługa klienta" in plain and "Tess Ray" in plain

    # "?" shows the shortcuts (not while typing), "j" opens the next ticket.
    tab.locator("body").click(position={"x": 5, "y": 5})
    tab.keyboard.press("?")
    help_box = tab.locator("#cx-shortcuts")
    help_box.wait_for(state="visible")
    tab.keyboard.press("Escape")
    help_box.wait_for(state="hidden")
    tab.keyboard.press("j")
    tab.wait_for_url(re.compile(rf"/ticket/{after.pk}/change/$"))
    laptop.close()

    phone = _signed_in(browser, live_server, agent, PHONE)
    tab = phone.new_page()
    tab.goto(url)
    _reply_box_on_screen(tab, PHONE["height"])
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(tab, "workspace-phone")
    phone.close()
