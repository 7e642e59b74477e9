"""Staff emails go out in each recipient's language and time zone (issue 19): the ticket
assignment and escalation alerts and the insight alert are rendered once per locale group
(cxcrm.staff_prefs) inside that locale. Until the catalogues are translated, the locale shows
in what Django localises itself: the language's date format, the time zone, <html lang>."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group

from cxcrm.models import StaffPreference
from feedback.insights.alerts_notify import alert_notify_queue, alert_summary
from feedback.insights.models import AlertKind, InsightAlert
from feedback.surveys.models import EmailKind, OutboundEmail
from feedback.tickets.services import ticket_assign, tickets_escalate_breached
from tests.factories import TicketFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def _staff(name: str, *, language: str = "", time_zone: str = "", group: str = "") -> Any:
    user = UserFactory(
        username=name, email=f"{name}@staff.example.com", password=None, is_staff=True
    )
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    if language or time_zone:
        StaffPreference.objects.create(user=user, language=language, time_zone=time_zone)
    return user


def _alerts_to(user: Any) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=EmailKind.ALERT, to_email=user.email))


def test_a_russian_assignee_gets_the_assignment_in_russian_and_their_time_zone() -> None:
    anna = _staff("anna", language="ru", time_zone="Europe/Moscow")
    ticket = TicketFactory(due_at=DUE)

    ticket_assign(ticket_id=ticket.pk, assignee=anna, actor=None)

    [email] = _alerts_to(anna)
    # Russian short date format (d.m.Y H:i), 09:30 UTC shown as 12:30 in Moscow.
    assert "05.03.2026 12:30 MSK" in email.body_text
    assert 'lang="ru"' in email.body_html and "05.03.2026 12:30 MSK" in email.body_html
    assert f"#{ticket.pk} {ticket.subject}" in email.subject


def test_without_a_preference_the_site_language_and_time_zone() -> None:
    bob = _staff("bob")
    ticket = TicketFactory(due_at=DUE)

    ticket_assign(ticket_id=ticket.pk, assignee=bob, actor=None)

    [email] = _alerts_to(bob)
    assert "03/05/2026 9:30 a.m. UTC" in email.body_text
    assert 'lang="en"' in email.body_html and 'dir="ltr"' in email.body_html


def test_managers_of_two_languages_get_one_escalation_each_in_their_own() -> None:
    olga = _staff("olga", language="ru", time_zone="Europe/Moscow", group="Manager")
    sara = _staff("sara", language="ar", time_zone="Asia/Riyadh", group="Manager")
    eve = _staff("eve", group="Manager")
    TicketFactory(due_at=DUE, first_contact_at=None)

    assert tickets_escalate_breached(now=DUE + timedelta(hours=1)) == 1

    [ru] = _alerts_to(olga)
    [ar] = _alerts_to(sara)
    [en] = _alerts_to(eve)
    assert 'lang="ru"' in ru.body_html and "05.03.2026 12:30" in ru.body_text
    assert 'lang="en"' in en.body_html and "03/05/2026" in en.body_text
    # Arabic reads right to left: the email says so.
    assert 'lang="ar"' in ar.body_html and 'dir="rtl"' in ar.body_html
    assert ru.subject == en.subject == ar.subject


def test_the_insight_alert_is_rendered_per_recipient_language() -> None:
    olga = _staff("olga", language="ru", group="Manager")
    eve = _staff("eve", group="Manager")
    alert = InsightAlert.objects.create(
        kind=AlertKind.SCORE_DROP,
        episode="score_drop:touchpoint:1:2026-W10",
        touchpoint=TouchpointFactory(name="Home delivery"),
        summary="stored",
        details={
            "figures": {
                "recent": {"k": 23, "n": 50, "share": 0.46},
                "baseline": {"k": 28, "n": 200, "share": 0.14},
                "p_value": 3e-07,
            },
            "grown_topics": [
                {"name": "Delivery", "recent_share": 0.78, "baseline_share": 0.31, "mentions": 18}
            ],
        },
    )

    alert_notify_queue(alert)

    [ru] = _alerts_to(olga)
    [en] = _alerts_to(eve)
    assert 'lang="ru"' in ru.body_html and 'lang="en"' in en.body_html
    # The summary is written from the figures in the reader's language, not the stored text.
    assert "stored" not in en.body_text
    assert "Score drop at Home delivery: bad answers 14% → 46%" in en.body_text
    assert "Delivery: 31% → 78% of comments (18 in the last 7 days)" in en.body_text


def test_an_alert_without_figures_keeps_its_stored_summary() -> None:
    alert = InsightAlert.objects.create(
        kind=AlertKind.TOPIC_SURGE, episode="e", summary="Bad answers doubled."
    )
    assert alert_summary(alert) == "Bad answers doubled."
