"""The database itself refuses invalid rows, whatever code writes them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.surveys.models import Invitation, InvitationState, Response, Survey
from feedback.surveys.scoring import SurveyKind
from feedback.tickets.models import Ticket, TicketStatus
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
)
from touchpoints.models import Interaction

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_duplicate_interaction_per_source_and_external_id_is_refused() -> None:
    first = InteractionFactory(source="shop", external_id="A-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Interaction.objects.create(
            customer=first.customer,
            touchpoint=first.touchpoint,
            occurred_at=timezone.now(),
            source="shop",
            external_id="A-1",
        )
    # The same external id from another source is a different event.
    InteractionFactory(source="pos", external_id="A-1", customer=first.customer)
    assert Interaction.objects.count() == 2


def test_empty_interaction_source_is_refused() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        InteractionFactory(source="", external_id="x")


@pytest.mark.parametrize(
    ("kind", "score"),
    [("nps", -1), ("nps", 11), ("csat", 0), ("csat", 6), ("ces", 0), ("ces", 8)],
)
def test_score_out_of_range_is_refused_by_the_database(kind: str, score: int) -> None:
    survey = SurveyFactory(kind=kind)
    invitation = InvitationFactory(survey=survey)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(
            invitation=invitation,
            survey=survey,
            kind=kind,
            customer=invitation.customer,
            score=score,
            category="detractor",
        )


def test_category_that_does_not_match_the_score_is_refused() -> None:
    survey = SurveyFactory(kind=SurveyKind.NPS)
    invitation = InvitationFactory(survey=survey)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(
            invitation=invitation,
            survey=survey,
            kind="nps",
            customer=invitation.customer,
            score=10,
            category="detractor",
        )


def test_response_clean_computes_the_category_and_names_a_bad_score() -> None:
    survey = SurveyFactory(kind=SurveyKind.CSAT)
    invitation = InvitationFactory(survey=survey)
    response = Response(
        invitation=invitation, survey=survey, kind="csat", customer=invitation.customer, score=2
    )
    response.clean()
    assert response.category == "dissatisfied"
    response.score = 9
    with pytest.raises(ValidationError, match="between 1 and 5"):
        response.clean()


def test_one_response_per_invitation() -> None:
    response = ResponseFactory(score=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponseFactory(invitation=response.invitation, score=9)


def test_one_invitation_per_survey_and_interaction() -> None:
    invitation = InvitationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(survey=invitation.survey, interaction=invitation.interaction)
    # Another survey may invite for the same interaction.
    InvitationFactory(interaction=invitation.interaction)


def test_tokens_are_unique_random_and_long() -> None:
    a, b = InvitationFactory(), InvitationFactory()
    assert a.token != b.token
    assert len(a.token) >= 43  # 256 bits, url-safe base64
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.filter(pk=b.pk).update(token=a.token)


def test_a_sent_invitation_needs_sent_at() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(state=InvitationState.SENT, sent_at=None)


def test_followup_invitation_needs_its_ticket() -> None:
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            survey=SurveyFactory(),
            customer=customer,
            purpose="followup",
            scheduled_for=timezone.now(),
        )


def test_resolving_a_ticket_needs_a_root_cause() -> None:
    ticket = TicketFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(
            status=TicketStatus.RESOLVED, resolved_at=timezone.now()
        )
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.RESOLVED, resolved_at=timezone.now(), root_cause=RootCauseFactory()
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED


def test_ticket_priority_outside_the_scale_is_refused() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(priority=9)


def test_survey_sample_percent_is_1_to_100() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyFactory(sample_percent=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.filter(pk=SurveyFactory().pk).update(sample_percent=101)


def test_survey_clean_refuses_categories_of_another_kind() -> None:
    survey = SurveyFactory.build(kind=SurveyKind.CSAT, ticket_categories=["detractor"])
    with pytest.raises(ValidationError, match="detractor"):
        survey.clean()


def test_survey_loop_categories_default_to_the_unhappy_band() -> None:
    assert SurveyFactory.build(kind="ces").loop_categories == ["difficult"]
    custom = SurveyFactory.build(kind="nps", ticket_categories=["detractor", "passive"])
    assert custom.loop_categories == ["detractor", "passive"]
    assert SurveyFactory.build(kind="nps", loop_enabled=False).loop_categories == []


def test_customer_reachability() -> None:
    customer = CustomerFactory()
    assert customer.is_reachable
    customer.unsubscribed_at = timezone.now()
    assert not customer.is_reachable
    assert not CustomerFactory(email="").is_reachable


def test_customer_suppression_needs_a_reason() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(suppressed_at=timezone.now(), suppression_reason="")


def test_touchpoint_slug_is_unique() -> None:
    TouchpointFactory(slug="checkout")
    from touchpoints.models import Touchpoint

    with pytest.raises(IntegrityError), transaction.atomic():
        Touchpoint.objects.create(name="Checkout 2", slug="checkout", stage="order", channel="web")
