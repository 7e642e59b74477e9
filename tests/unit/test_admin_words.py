"""Admin lists show staff words, not stored machine values: a survey's delay, a ticket
event's action and values (issue 19)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import translation

from feedback.surveys.admin import SurveyAdmin
from feedback.surveys.models import Survey
from feedback.tickets.models import TicketEvent
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("delay", "english"),
    [
        (timedelta(days=3), "3 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(minutes=90), "90 minutes"),
    ],
)
def test_a_surveys_delay_is_said_in_words(delay: timedelta, english: str) -> None:
    shown = SurveyAdmin(Survey, admin.site).delay_label(Survey(delay=delay))
    assert shown == english


def test_the_delay_follows_the_staff_language() -> None:
    with translation.override("ru"):
        shown = SurveyAdmin(Survey, admin.site).delay_label(Survey(delay=timedelta(days=3)))
    assert shown.startswith("3 ") and "day" not in shown


def test_ticket_events_list_says_statuses_in_words(admin_client: Client, **_: Any) -> None:
    ticket = TicketFactory()
    TicketEvent.objects.create(ticket=ticket, action="status", from_value="new", to_value="pending")
    page = admin_client.get(reverse("admin:feedback_ticketevent_changelist"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Pending customer" in html or "Pending" in html
    assert ">pending<" not in html
