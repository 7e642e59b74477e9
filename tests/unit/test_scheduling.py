"""Survey rules: which interactions create invitations (the loop, step 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from feedback.surveys.models import Invitation, InvitationState
from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
)
from touchpoints.models import JourneyStage
from touchpoints.services import interaction_record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def record(customer, touchpoint, external_id: str, occurred_at=None):  # type: ignore[no-untyped-def]
    return interaction_record(
        customer=customer,
        touchpoint=touchpoint,
        occurred_at=occurred_at or timezone.now(),
        source="shop",
        external_id=external_id,
    )


@pytest.fixture
def checkout():  # type: ignore[no-untyped-def]
    return TouchpointFactory(slug="checkout", stage=JourneyStage.ORDER)


@pytest.fixture
def nps(checkout):  # type: ignore[no-untyped-def]
    return SurveyFactory(kind="nps", trigger_stage=JourneyStage.ORDER, delay=timedelta(hours=2))


def test_purchase_schedules_an_invitation_after_the_delay(checkout, nps) -> None:  # type: ignore[no-untyped-def]
    occurred = timezone.now() - timedelta(minutes=5)
    result = record(CustomerFactory(), checkout, "o-1", occurred)
    assert result.created and result.invitations == 1
    invitation = Invitation.objects.get()
    assert invitation.survey == nps
    assert invitation.state == InvitationState.SCHEDULED
    assert invitation.scheduled_for == occurred + timedelta(hours=2)
    assert invitation.expires_at == invitation.scheduled_for + timedelta(days=14)


def test_resent_interaction_creates_nothing_new(checkout, nps) -> None:  # type: ignore[no-untyped-def]
    customer = CustomerFactory()
    first = record(customer, checkout, "o-1")
    again = record(customer, checkout, "o-1")
    assert again.created is False and again.interaction.pk == first.interaction.pk
    assert Invitation.objects.count() == 1


def test_touchpoint_trigger_and_inactive_surveys(checkout) -> None:  # type: ignore[no-untyped-def]
    delivery = TouchpointFactory(slug="delivery", stage=JourneyStage.USAGE)
    csat = SurveyFactory(kind="csat", trigger_stage="")
    csat.trigger_touchpoints.add(delivery)
    SurveyFactory(kind="nps", trigger_stage=JourneyStage.USAGE, active=False)
    record(CustomerFactory(), delivery, "d-1")
    assert list(Invitation.objects.values_list("survey__kind", flat=True)) == ["csat"]
    # An order touchpoint triggers nothing here: no survey names it or its stage.
    assert record(CustomerFactory(), checkout, "o-2").invitations == 0


@pytest.mark.parametrize(
    "change",
    [
        {"email": ""},
        {"unsubscribed_at": timezone.now()},
        {"suppressed_at": timezone.now(), "suppression_reason": "hard_bounce"},
        {"erased_at": timezone.now()},
    ],
    ids=["no-email", "unsubscribed", "suppressed", "erased"],
)
def test_unreachable_customers_are_not_invited(checkout, nps, change) -> None:  # type: ignore[no-untyped-def]
    result = record(CustomerFactory(**change), checkout, "o-1")
    assert result.created and result.invitations == 0


def test_customer_with_an_open_ticket_is_not_invited(checkout, nps) -> None:  # type: ignore[no-untyped-def]
    customer = CustomerFactory()
    TicketFactory(customer=customer)
    assert record(customer, checkout, "o-1").invitations == 0


def test_contact_frequency_across_surveys(checkout, nps) -> None:  # type: ignore[no-untyped-def]
    customer = CustomerFactory()
    now = timezone.now()
    assert record(customer, checkout, "o-1", now - timedelta(days=40)).invitations == 1
    # 40 days later: outside the 30-day window, invited again.
    assert record(customer, checkout, "o-2", now).invitations == 1
    # The next day: inside the window, whatever survey would ask.
    other = SurveyFactory(kind="csat", trigger_stage=JourneyStage.ORDER)
    assert record(customer, checkout, "o-3", now + timedelta(days=1)).invitations == 0
    # A survey may override the window.
    other.contact_frequency_days = 0
    other.save()
    assert record(customer, checkout, "o-4", now + timedelta(days=2)).invitations == 1


def test_failed_or_cancelled_invitations_do_not_count_as_contact(checkout, nps) -> None:  # type: ignore[no-untyped-def]
    customer = CustomerFactory()
    InvitationFactory(customer=customer, state=InvitationState.FAILED, survey=nps)
    InvitationFactory(customer=customer, state=InvitationState.CANCELLED, survey=nps)
    assert record(customer, checkout, "o-1").invitations == 1


def test_global_contact_frequency_is_a_setting(checkout, nps, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CXCRM_CONTACT_FREQUENCY_DAYS = 2
    customer = CustomerFactory()
    now = timezone.now()
    assert record(customer, checkout, "o-1", now - timedelta(days=3)).invitations == 1
    assert record(customer, checkout, "o-2", now).invitations == 1


def test_sampling_is_deterministic_and_near_the_percentage(checkout) -> None:  # type: ignore[no-untyped-def]
    survey = SurveyFactory(kind="nps", trigger_stage=JourneyStage.ORDER, sample_percent=30)
    invited = sum(record(CustomerFactory(), checkout, f"o-{i}").invitations for i in range(300))
    assert 60 <= invited <= 120  # 30 % of 300 is 90; the hash spreads evenly
    assert Invitation.objects.filter(survey=survey).count() == invited


def test_interaction_in_a_rolled_back_transaction_leaves_nothing(checkout, nps) -> None:  # type: ignore[no-untyped-def]
    customer = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        record(customer, checkout, "o-1")
        raise RuntimeError("the caller failed after recording")
    assert not Invitation.objects.exists()
    assert not customer.interactions.exists()
