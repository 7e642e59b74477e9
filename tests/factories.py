"""factory-boy factories for the domain; tests build data through these, never by hand."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify

from customers.models import Customer
from feedback.surveys.models import Invitation, InvitationState, OutboundEmail, Response, Survey
from feedback.surveys.scoring import SurveyKind, categorize
from feedback.tickets.models import RootCause, Ticket, TicketEvent, TicketMessage
from touchpoints.models import Channel, Interaction, JourneyStage, Touchpoint


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"agent{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@staff.example.com")
    is_staff = True
    password = factory.django.Password("correct-horse-battery-staple")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"cust-{n:06d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")
    language = "en"
    country = "GB"


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    slug = factory.Sequence(lambda n: f"touchpoint-{n}")
    stage = JourneyStage.ORDER
    channel = Channel.WEB


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    touchpoint = factory.SubFactory(TouchpointFactory)
    occurred_at = factory.LazyFunction(timezone.now)
    source = "shop"
    external_id = factory.Sequence(lambda n: f"order-{n:08d}")


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    name = factory.Sequence(lambda n: f"Survey {n}")
    slug = factory.Sequence(lambda n: f"survey-{n}")
    kind = SurveyKind.NPS
    trigger_stage = JourneyStage.ORDER
    texts = factory.LazyFunction(
        lambda: {"en": {"subject": "How did we do?", "question": "Would you recommend us?"}}
    )


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    interaction = factory.SubFactory(InteractionFactory)
    customer = factory.SelfAttribute("interaction.customer")
    state = InvitationState.SCHEDULED
    scheduled_for = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    invitation = factory.SubFactory(InvitationFactory, state=InvitationState.RESPONDED)
    survey = factory.SelfAttribute("invitation.survey")
    kind = factory.SelfAttribute("survey.kind")
    customer = factory.SelfAttribute("invitation.customer")
    touchpoint = factory.LazyAttribute(
        lambda o: o.invitation.interaction.touchpoint if o.invitation.interaction else None
    )
    score = 9
    category = factory.LazyAttribute(lambda o: categorize(o.kind, o.score))


class RootCauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RootCause
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Root cause {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    touchpoint = factory.SubFactory(TouchpointFactory)
    subject = factory.Sequence(lambda n: f"Unhappy customer {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=48))


class TicketMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    direction = "inbound"
    body = "The parcel arrived late."


class TicketEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketEvent

    ticket = factory.SubFactory(TicketFactory)
    action = "status"
    from_value = "new"
    to_value = "open"


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    to_email = factory.Sequence(lambda n: f"customer{n}@example.com")
    subject = "How did we do?"
    body_text = "Tell us."
