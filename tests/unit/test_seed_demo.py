"""The demo data: big and varied enough to look alive, consistent, deterministic, re-runnable."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from customers.models import Customer
from feedback.demo import SOURCE, demo_seed
from feedback.surveys.models import (
    Invitation,
    InvitationPurpose,
    InvitationState,
    OutboundEmail,
    Response,
    Survey,
)
from feedback.surveys.scoring import SurveyKind, categorize
from feedback.tickets.models import (
    RootCause,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from tests.factories import UserFactory
from touchpoints.models import Interaction, JourneyStage, Touchpoint

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def outbox(settings: Any) -> None:
    """The demo sends through the product into the outbox, as under ``make run``."""
    settings.EMAIL_BACKEND = "feedback.surveys.backends.OutboxBackend"


def wipe() -> None:
    """Delete every demo row in reverse dependency order (most foreign keys are PROTECT)."""
    OutboundEmail.objects.all().delete()
    Response.objects.filter(invitation__purpose=InvitationPurpose.FOLLOWUP).delete()
    Invitation.objects.filter(purpose=InvitationPurpose.FOLLOWUP).delete()
    Ticket.objects.all().delete()  # cascades to messages and events
    Response.objects.all().delete()
    Invitation.objects.all().delete()
    Interaction.objects.all().delete()
    Customer.objects.all().delete()
    Survey.objects.all().delete()
    RootCause.objects.all().delete()
    Touchpoint.objects.all().delete()


def fingerprint() -> dict[str, list[Any]]:
    return {
        "customers": list(
            Customer.objects.order_by("external_id").values_list(
                "external_id", "email", "name", "language", "segment", "unsubscribed_at"
            )
        ),
        "interactions": list(
            Interaction.objects.order_by("external_id").values_list(
                "external_id", "customer__external_id", "touchpoint__slug", "occurred_at", "amount"
            )
        ),
        "invitations": list(
            Invitation.objects.order_by("scheduled_for", "survey__name").values_list(
                "interaction__external_id", "state", "scheduled_for", "sent_at"
            )
        ),
        "responses": list(
            Response.objects.order_by("submitted_at").values_list(
                "score", "category", "comment", "channel"
            )
        ),
        "tickets": list(
            Ticket.objects.order_by("created_at").values_list(
                "subject", "status", "priority", "assignee__username", "due_at"
            )
        ),
    }


@pytest.mark.django_db
def test_demo_data_is_big_varied_and_consistent() -> None:
    result = demo_seed(seed=42, now=NOW, size="small")

    assert result.created
    touchpoints = Touchpoint.objects.all()
    assert touchpoints.count() >= 12
    assert {t.stage for t in touchpoints} == set(JourneyStage.values)
    assert Customer.objects.count() >= 200
    languages = set(Customer.objects.values_list("language", flat=True))
    assert {"en", "ru", "pl", "zh-hans", "ar"} <= languages
    assert Customer.objects.filter(unsubscribed_at__isnull=False).exists()
    suppressed = Customer.objects.filter(suppressed_at__isnull=False)
    assert suppressed.exists()
    assert not suppressed.filter(suppression_reason="").exists()

    interactions = Interaction.objects.all()
    assert interactions.count() >= 1000
    assert not interactions.exclude(source=SOURCE).exists()
    assert not interactions.filter(occurred_at__lt=NOW - timedelta(days=90)).exists()
    assert not interactions.filter(occurred_at__gt=NOW).exists()
    purchases = interactions.filter(touchpoint__stage__in=["order", "payment"])
    assert purchases.exists()
    assert not purchases.filter(amount__isnull=True).exists()
    assert not purchases.filter(currency="").exists()

    assert sorted(Survey.objects.values_list("kind", flat=True)) == sorted(SurveyKind.values)
    for survey in Survey.objects.all():
        assert set(survey.texts) == {"en", "ru", "pl", "zh-hans", "ar"}
        for text in survey.texts.values():
            assert text["subject"] and text["question"] and len(text["followup"]) == 3

    invitations = Invitation.objects.all()
    # Failed and suppressed need a mail server that refuses: the outbox takes everything.
    assert set(invitations.values_list("state", flat=True)) == set(InvitationState.values) - {
        InvitationState.FAILED,
        InvitationState.SUPPRESSED,
    }
    delivered = invitations.filter(state__in=["sent", "responded", "expired"])
    assert not delivered.filter(sent_at__isnull=True).exists()
    assert not invitations.filter(expires_at__isnull=True).exists()
    assert not invitations.filter(state="failed", attempts__lt=1).exists()
    assert not invitations.filter(state="failed", last_error="").exists()
    assert not invitations.filter(state="scheduled", scheduled_for__lte=NOW).exists()
    assert not invitations.filter(state="expired", expires_at__gt=NOW).exists()
    # Nobody is invited after opting out, and what was scheduled then was cancelled.
    for inv in invitations.filter(customer__unsubscribed_at__isnull=False).select_related(
        "customer", "interaction"
    ):
        gone = inv.customer.unsubscribed_at
        if inv.interaction is not None:
            assert inv.interaction.occurred_at < gone
        assert inv.sent_at is None or inv.sent_at < gone
        if inv.scheduled_for > gone:
            assert inv.state == InvitationState.CANCELLED

    responses = list(Response.objects.select_related("invitation"))
    assert all(r.category == categorize(r.kind, r.score) for r in responses)
    assert all(r.invitation.state == "responded" for r in responses)
    assert all(r.invitation.sent_at < r.submitted_at <= NOW for r in responses)
    assert {r.channel for r in responses} >= {"email_click", "web", "reply"}
    assert sum(bool(r.comment) for r in responses) > len(responses) / 3
    nps = Counter(r.category for r in responses if r.kind == SurveyKind.NPS)
    assert min(nps["promoter"], nps["passive"], nps["detractor"]) > 0
    assert nps["promoter"] > nps["detractor"]

    tickets = Ticket.objects.select_related("response")
    assert set(tickets.values_list("status", flat=True)) == set(TicketStatus.values)
    assert RootCause.objects.count() >= 7
    staff = set(get_user_model().objects.filter(is_staff=True).values_list("username", flat=True))
    assert {"alice", "bob", "chen"} <= staff
    for ticket in tickets:
        assert ticket.response is not None
        assert ticket.due_at == ticket.created_at + timedelta(hours=48)
        assert ticket.assignee is not None
        if ticket.response.kind == SurveyKind.NPS and ticket.response.score <= 3:
            assert ticket.priority >= TicketPriority.HIGH
        if ticket.status in ("resolved", "closed"):
            assert ticket.root_cause and ticket.resolution and ticket.first_contact_at
        if ticket.status in ("pending", "resolved", "closed"):
            assert ticket.first_contact_at is not None
    bad = [r for r in responses if r.category in ("detractor", "dissatisfied", "difficult")]
    assert tickets.count() > len(bad) / 2
    assert tickets.overdue(NOW).exists()
    assert tickets.filter(priority=TicketPriority.URGENT).exists()
    directions = set(TicketMessage.objects.values_list("direction", flat=True))
    assert directions == {"inbound", "outbound", "note"}
    assert OutboundEmail.objects.filter(kind="survey", status="outbox").exists()

    # The loop closes: detractors get tickets, resolving asks again, and some are won back.
    detractors = Response.objects.filter(
        category="detractor", invitation__purpose=InvitationPurpose.SURVEY
    )
    assert Ticket.objects.filter(response__in=detractors).count() > detractors.count() / 2
    followups = Invitation.objects.filter(purpose=InvitationPurpose.FOLLOWUP)
    assert followups.filter(state="responded").exists()
    assert all(f.ticket.resolved_at or f.ticket.is_open for f in followups)
    assert tickets.filter(recovered=True).exists()
    # History is dated by the services, not today: the ticket trail lies within the 90 days.
    stamps = TicketEvent.objects.values_list("created_at", flat=True)
    assert min(stamps) > NOW - timedelta(days=90)
    assert max(stamps) <= NOW
    assert max(Response.objects.values_list("submitted_at", flat=True)) <= NOW


@pytest.mark.django_db
def test_refuses_a_backend_that_would_email_the_invented_customers(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

    with pytest.raises(ImproperlyConfigured):
        demo_seed(seed=1, now=NOW, size="small")

    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_running_again_changes_nothing_and_keeps_consent_and_accounts() -> None:
    UserFactory(username="alice", first_name="Alice", password="kept-password-123")
    first = demo_seed(seed=42, now=NOW, size="tiny")
    customer = Customer.objects.filter(unsubscribed_at__isnull=True).order_by("pk").first()
    assert customer is not None
    customer.unsubscribed_at = NOW
    customer.save()

    before = fingerprint()
    second = demo_seed(seed=42, now=NOW + timedelta(hours=1), size="tiny")
    third = demo_seed(seed=43, now=NOW, size="tiny")

    assert not second.created and not third.created
    assert second.counts == third.counts == first.counts
    assert fingerprint() == before
    customer.refresh_from_db()
    assert customer.unsubscribed_at == NOW
    alice = get_user_model().objects.get(username="alice")
    assert alice.check_password("kept-password-123")
    assert not get_user_model().objects.get(username="bob").has_usable_password()


@pytest.mark.django_db
def test_same_seed_same_data_and_another_seed_other_data() -> None:
    demo_seed(seed=7, now=NOW, size="tiny")
    first = fingerprint()
    wipe()
    demo_seed(seed=7, now=NOW, size="tiny")
    again = fingerprint()
    wipe()
    demo_seed(seed=8, now=NOW, size="tiny")
    other = fingerprint()

    assert again == first
    assert other["customers"] != first["customers"]
    assert other["interactions"] != first["interactions"]
    assert other["responses"] != first["responses"]


@pytest.mark.django_db
def test_command_seeds_with_a_seed_and_prints_a_summary() -> None:
    out, err = StringIO(), StringIO()
    call_command("seed_demo", "--seed", "3", "--size", "tiny", stdout=out, stderr=err)

    text = out.getvalue()
    assert "Demo data created (seed 3)" in text
    assert re.search(rf"customers +{Customer.objects.count()}\n", text)
    assert re.search(rf"tickets +{Ticket.objects.count()}\n", text)
    assert Interaction.objects.filter(source=SOURCE).count() >= 90

    out = StringIO()
    call_command("seed_demo", "--size", "tiny", stdout=out, stderr=StringIO())
    assert "already present" in out.getvalue()


@pytest.mark.django_db
def test_seeds_without_the_agent_role_and_every_worked_ticket_has_someone() -> None:
    # A database flushed by a transactional test loses the roles' migration data: nobody is
    # in the Agent group to route tickets to, and the demo's staff pick them up themselves.
    from django.contrib.auth.models import Group

    Group.objects.filter(name="Agent").delete()
    demo_seed(seed=42, now=NOW, size="small")
    worked = Ticket.objects.exclude(status=TicketStatus.NEW)
    assert worked.exists()
    assert not worked.filter(assignee__isnull=True).exists()


def test_full_size_plans_a_year_with_a_weekly_rhythm_and_growth() -> None:
    # The full demo's shape, checked on its plan (drawn in memory, no rows: seeding it takes
    # a minute): ~10,000 visits over 365 days, Mondays busier than Saturdays, the last
    # quarter busier than the first.
    from feedback.demo.seed import SIZES, _Replay

    replay = _Replay(
        seed=42, now=NOW, size=SIZES["full"], staff={}, touchpoints={}, surveys={}, causes={}
    )
    replay.plan()

    times = [at for at, *_ in replay.visits]
    assert len(times) >= 10_000
    assert len({person.fields["language"] for person in replay.people}) == 5
    assert NOW - timedelta(days=365) <= min(times) < NOW - timedelta(days=350)
    assert max(times) <= NOW
    weekdays = Counter(at.weekday() for at in times)
    assert weekdays[0] > 1.3 * weekdays[5]
    first = sum(at < NOW - timedelta(days=365 - 91) for at in times)
    last = sum(at >= NOW - timedelta(days=91) for at in times)
    assert last > 1.2 * first
    assert len({slug for _, _, slug, _ in replay.visits}) >= 15
