"""Dispatch against a real SMTP server (aiosmtpd on loopback): sending, headers, retries,
hard bounces, leases, reminders and expiry."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from customers.models import SuppressionReason
from feedback.surveys.models import EmailStatus, Invitation, InvitationState, OutboundEmail
from feedback.surveys.services.dispatch import (
    invitations_claim,
    invitations_dispatch,
    invitations_expire_due,
    invitations_release_stale,
    invitations_remind_due,
    retry_delay,
)
from tests.factories import CustomerFactory, InvitationFactory, SurveyFactory
from tests.smtp import SmtpSink, smtp_settings

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TEXTS = {
    "en": {"subject": "How did we do?", "question": "Would you recommend us?"},
    "ru": {"subject": "Как мы справились?", "question": "Вы бы порекомендовали нас?"},
}


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink, override_settings(**smtp_settings(sink)):
        yield sink


def due_invitation(**kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("scheduled_for", timezone.now() - timedelta(minutes=1))
    if "survey" not in kwargs:
        kwargs["survey"] = SurveyFactory(kind="nps", texts=TEXTS)
    return InvitationFactory(**kwargs)


def test_due_invitation_is_sent_with_its_headers(smtp: SmtpSink, settings) -> None:  # type: ignore[no-untyped-def]
    invitation = due_invitation()
    later = due_invitation(scheduled_for=timezone.now() + timedelta(hours=1))

    stats = invitations_dispatch()

    assert (stats.sent, stats.failed, stats.deferred) == (1, 0, 0)
    [message] = smtp.messages
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SENT and invitation.sent_at is not None
    assert message["Message-ID"] == invitation.message_id
    assert message["To"] == invitation.customer.email
    assert message["Reply-To"] == f"reply+{invitation.token}@{settings.INBOUND_EMAIL_DOMAIN}"
    unsubscribe = f"{settings.SITE_URL}/u/{invitation.token}/"
    assert f"<{unsubscribe}>" in message["List-Unsubscribe"]
    assert f"mailto:unsubscribe+{invitation.token}@" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for score in range(0, 11):
        link = f"{settings.SITE_URL}/s/{invitation.token}/?score={score}"
        assert link in text and link in html
    assert "Would you recommend us?" in html
    # Every email is an OutboundEmail row tied to its invitation.
    row = OutboundEmail.objects.get(invitation=invitation)
    assert row.status == EmailStatus.SENT and row.message_id == invitation.message_id
    later.refresh_from_db()
    assert later.state == InvitationState.SCHEDULED


def test_email_is_in_the_customers_language(smtp: SmtpSink) -> None:
    due_invitation(customer=CustomerFactory(language="ru", name="Анна"))
    invitations_dispatch()
    [message] = smtp.messages
    assert message["Subject"] == "Как мы справились?"
    html = message.get_body(("html",)).get_content()
    assert "Вы бы порекомендовали нас?" in html
    assert 'lang="ru"' in html
    # The email's own words are translated too, not only the survey's texts.
    assert "Unsubscribe from surveys" not in html


def test_arabic_email_is_right_to_left(smtp: SmtpSink) -> None:
    due_invitation(customer=CustomerFactory(language="ar"))
    invitations_dispatch()
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert 'dir="rtl"' in html


def test_language_falls_back_to_the_surveys_default_then_english(smtp: SmtpSink) -> None:
    survey = SurveyFactory(
        kind="csat", default_language="pl", texts={"pl": {"subject": "Jak nam poszło?"}}
    )
    due_invitation(survey=survey, customer=CustomerFactory(language="fr"))
    invitations_dispatch()
    assert smtp.messages[0]["Subject"] == "Jak nam poszło?"


def test_smtp_451_defers_with_backoff_then_delivers(smtp: SmtpSink, settings) -> None:  # type: ignore[no-untyped-def]
    invitation = due_invitation()
    smtp.defer_for(60)
    stats = invitations_dispatch()
    assert (stats.sent, stats.deferred) == (0, 1)
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SCHEDULED
    assert invitation.attempts == 1 and invitation.last_error.startswith("451")
    base = settings.CXCRM_DISPATCH_RETRY_BASE_SECONDS
    assert invitation.scheduled_for > timezone.now() + timedelta(seconds=base * 0.5 - 5)
    assert OutboundEmail.objects.get().status == EmailStatus.DEFERRED

    smtp.defer_for(0)
    Invitation.objects.filter(pk=invitation.pk).update(scheduled_for=timezone.now())
    assert invitations_dispatch().sent == 1
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SENT and invitation.attempts == 2
    assert len(smtp.messages) == 1


def test_transient_failures_give_up_after_the_bound(smtp: SmtpSink, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CXCRM_DISPATCH_MAX_ATTEMPTS = 2
    invitation = due_invitation(attempts=1)
    smtp.defer_for(60)
    invitations_dispatch()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.FAILED and invitation.attempts == 2


def test_smtp_550_fails_and_suppresses_the_address(smtp: SmtpSink) -> None:
    bad = due_invitation(customer=CustomerFactory(email="gone@example.com"))
    good = due_invitation()
    pending = InvitationFactory(
        customer=bad.customer, scheduled_for=timezone.now() + timedelta(days=3)
    )
    smtp.refuse(lambda addr: addr == "gone@example.com", "550 5.1.1 No such user")

    stats = invitations_dispatch()

    assert (stats.sent, stats.failed) == (1, 1)
    bad.refresh_from_db()
    assert bad.state == InvitationState.FAILED and bad.last_error.startswith("550")
    bad.customer.refresh_from_db()
    assert bad.customer.suppression_reason == SuppressionReason.HARD_BOUNCE
    pending.refresh_from_db()
    assert pending.state == InvitationState.CANCELLED
    good.refresh_from_db()
    assert good.state == InvitationState.SENT
    assert OutboundEmail.objects.get(invitation=bad).status == EmailStatus.BOUNCED


def test_connection_refused_is_transient() -> None:
    from tests.smtp import free_port

    invitation = due_invitation()
    port = free_port()  # nothing listens here
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
    ):
        stats = invitations_dispatch()
    assert stats.deferred == 1
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SCHEDULED and invitation.attempts == 1
    assert "Connection" in invitation.last_error or "refused" in invitation.last_error.lower()


def test_unreachable_customer_at_send_time_is_suppressed_not_sent(smtp: SmtpSink) -> None:
    invitation = due_invitation(customer=CustomerFactory(unsubscribed_at=timezone.now()))
    invitations_dispatch()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SUPPRESSED
    assert smtp.messages == []


def test_claims_are_disjoint_and_stale_claims_return(settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        due_invitation()
    first, _at = invitations_claim(limit=3)
    second, _at2 = invitations_claim(limit=3)
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert invitations_claim(limit=3)[0] == []
    # A worker that died holds its claim until the lease runs out; then it is released.
    assert invitations_release_stale() == 0
    later = timezone.now() + timedelta(seconds=settings.CXCRM_DISPATCH_LEASE_SECONDS + 1)
    assert invitations_release_stale(now=later) == 5
    assert Invitation.objects.filter(state=InvitationState.SCHEDULED).count() == 5


def test_retry_delay_grows_exponentially_with_jitter_and_a_cap(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CXCRM_DISPATCH_RETRY_BASE_SECONDS = 60
    settings.CXCRM_DISPATCH_RETRY_MAX_SECONDS = 3600
    rng = random.Random(1)
    delays = [retry_delay(n, rng=rng).total_seconds() for n in (1, 2, 3, 10)]
    assert 30 <= delays[0] <= 60
    assert 60 <= delays[1] <= 120
    assert 120 <= delays[2] <= 240
    assert 1800 <= delays[3] <= 3600


def test_one_reminder_to_non_responders_only(smtp: SmtpSink) -> None:
    survey = SurveyFactory(kind="nps", texts=TEXTS, reminder_after_days=3)
    now = timezone.now()
    sent = dict(state=InvitationState.SENT, sent_at=now - timedelta(days=4), message_id="<a@x>")
    waiting = InvitationFactory(survey=survey, **sent)
    too_recent = InvitationFactory(
        survey=survey, state=InvitationState.SENT, sent_at=now - timedelta(days=1)
    )
    answered = InvitationFactory(survey=survey, **{**sent, "state": InvitationState.RESPONDED})
    opted_out = InvitationFactory(
        survey=survey, customer=CustomerFactory(unsubscribed_at=now), **sent
    )

    assert invitations_remind_due().sent == 1
    assert invitations_remind_due().sent == 0  # never twice

    [reminder] = smtp.messages
    assert reminder["To"] == waiting.customer.email
    assert reminder["Subject"].startswith("Reminder:")
    assert reminder["In-Reply-To"] == "<a@x>"
    waiting.refresh_from_db()
    assert waiting.reminded_at is not None
    for other in (too_recent, answered, opted_out):
        other.refresh_from_db()
        assert other.reminded_at is None


def test_invitations_expire_after_their_window() -> None:
    now = timezone.now()
    old = InvitationFactory(
        state=InvitationState.SENT, sent_at=now - timedelta(days=20), expires_at=now
    )
    fresh = InvitationFactory(
        state=InvitationState.SENT, sent_at=now, expires_at=now + timedelta(days=5)
    )
    assert invitations_expire_due() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == InvitationState.EXPIRED and fresh.state == InvitationState.SENT


def test_outbox_backend_keeps_survey_emails_for_the_admin(admin_client) -> None:  # type: ignore[no-untyped-def]
    invitation = due_invitation()
    with override_settings(EMAIL_BACKEND="feedback.surveys.backends.OutboxBackend"):
        invitations_dispatch()
    row = OutboundEmail.objects.get()
    assert row.status == EmailStatus.OUTBOX and row.invitation == invitation
    # The body is not stored per email; the outbox viewer renders it from the invitation.
    assert row.body_html == ""
    page = admin_client.get(f"/admin/feedback/outboundemail/{row.pk}/change/").content.decode()
    assert f"/s/{invitation.token}/?score=10" in page
    assert "Would you recommend us?" in page


def test_outbox_shows_a_survey_emails_rendered_source_not_its_empty_columns(admin_client) -> None:  # type: ignore[no-untyped-def]
    # The demo's survey emails are sent this way: their stored body columns are empty, and
    # every body field of the viewer shows the email rendered from its invitation.
    invitation = due_invitation()
    with override_settings(EMAIL_BACKEND="feedback.surveys.backends.OutboxBackend"):
        invitations_dispatch()
    row = OutboundEmail.objects.get()
    page = admin_client.get(f"/admin/feedback/outboundemail/{row.pk}/change/").content.decode()
    source = page.split("field-html_source", 1)[1]
    assert "&lt;html" in source and "&lt;/html&gt;" in source
    assert f"/s/{invitation.token}/?score=10" in source
    assert "field-body_text" not in page and "field-body_html" not in page


def test_admin_actions_resend_and_cancel(admin_client) -> None:  # type: ignore[no-untyped-def]
    failed = InvitationFactory(state=InvitationState.FAILED, attempts=3, last_error="550 x")
    answered = InvitationFactory(state=InvitationState.RESPONDED)
    scheduled = InvitationFactory(scheduled_for=timezone.now() + timedelta(days=1))
    url = "/admin/feedback/invitation/"
    admin_client.post(
        url, {"action": "resend_now", "_selected_action": [failed.pk, answered.pk]}, follow=True
    )
    failed.refresh_from_db()
    answered.refresh_from_db()
    assert failed.state == InvitationState.SCHEDULED and failed.attempts == 0
    assert failed.scheduled_for <= timezone.now()
    assert answered.state == InvitationState.RESPONDED

    page = admin_client.post(
        url, {"action": "cancel_unsent", "_selected_action": [scheduled.pk]}, follow=True
    )
    assert "1 invitation cancelled. 0 had already gone out." in page.content.decode()
    scheduled.refresh_from_db()
    assert scheduled.state == InvitationState.CANCELLED
