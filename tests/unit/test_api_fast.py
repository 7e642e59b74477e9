"""cxcrm.api.fast: a serializer with FastRepresentation outputs exactly what DRF's own
ModelSerializer outputs for the same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from cxcrm.api.fast import FastRepresentation
from feedback.api.selectors import tickets_visible_to
from feedback.api.serializers import InvitationSerializer, ResponseSerializer, TicketSerializer
from feedback.models import RootCause, TicketPriority, TicketStatus
from tests.factories import (
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    TicketFactory,
    UserFactory,
)
from touchpoints.api.serializers import InteractionSerializer

pytestmark = pytest.mark.django_db


def drf_output(serializer_class: type, instance: Any) -> dict[str, Any]:
    """DRF's field-by-field path on the same serializer (the mixin's override skipped)."""
    return dict(serializers.Serializer.to_representation(serializer_class(), instance))


@pytest.fixture
def tickets() -> list[Any]:
    agent = UserFactory(username="agent", is_staff=True)
    at = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    TicketFactory(due_at=None)  # every optional field empty
    TicketFactory(
        assignee=agent,
        response=ResponseFactory(),
        status=TicketStatus.RESOLVED,
        priority=TicketPriority.URGENT,
        first_contact_at=at,
        resolved_at=at + timedelta(hours=2),
        escalated_at=at + timedelta(minutes=5),
        root_cause=RootCause.objects.create(name="Late delivery"),
        resolution='Refunded; "sorry" — naïve',
        recovered=True,
    )
    return list(tickets_visible_to(object()).order_by("id"))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_ticket_rows_are_what_drf_outputs(tickets: list[Any], zone: str) -> None:
    with timezone.override(zone):
        for ticket in tickets:
            ours = TicketSerializer().to_representation(ticket)
            assert ours == drf_output(TicketSerializer, ticket)
            assert list(ours) == list(drf_output(TicketSerializer, ticket))


def test_the_fast_path_is_taken_for_every_ticket_field() -> None:
    serializer = TicketSerializer()
    serializer.to_representation  # noqa: B018 - the plan is made on first use
    plan = serializer._fast_plan()
    assert [name for name, read, _ in plan if read is None] == []
    assert [name for name, _, _ in plan] == TicketSerializer.Meta.fields


def test_a_field_it_cannot_read_goes_through_drf() -> None:
    class WithMethod(FastRepresentation, serializers.ModelSerializer):
        shout = serializers.SerializerMethodField()

        class Meta:
            model = TicketSerializer.Meta.model
            fields = ["id", "subject", "shout"]

        def get_shout(self, obj: Any) -> str:
            return obj.subject.upper()

    ticket = TicketFactory(subject="help")
    assert WithMethod().to_representation(ticket) == {
        "id": ticket.pk,
        "subject": "help",
        "shout": "HELP",
    }
    assert [name for name, read, _ in WithMethod()._fast_plan() if read is None] == ["shout"]


@pytest.mark.parametrize(
    "serializer_class, make",
    [
        (InteractionSerializer, lambda: InteractionFactory(amount="12.50", metadata={"a": [1]})),
        (InvitationSerializer, lambda: InvitationFactory(sent_at=timezone.now())),
        (InvitationSerializer, InvitationFactory),
        (ResponseSerializer, lambda: ResponseFactory(comment="Trop lent — désolé")),
        (ResponseSerializer, ResponseFactory),
    ],
)
def test_listed_rows_are_what_drf_outputs(serializer_class: type, make: Any) -> None:
    made = make()
    instance = type(made).objects.get(pk=made.pk)
    with timezone.override("Asia/Kolkata"):
        assert serializer_class().to_representation(instance) == drf_output(
            serializer_class, instance
        )
