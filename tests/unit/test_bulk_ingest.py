"""The bulk recording service on each database, for a few rows and a batch: ids, idempotency,
references by id, external id and slug, invitations with every default set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from customers.models import Customer
from feedback.surveys.models import Invitation, InvitationState
from tests.factories import CustomerFactory, SurveyFactory, TouchpointFactory
from touchpoints.models import Interaction, JourneyStage, Touchpoint
from touchpoints.services import (
    InteractionInput,
    UnknownReferences,
    interactions_record_bulk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
START = datetime(2025, 3, 1, 9, tzinfo=UTC)
BATCH = 60


def items(customers: list[Customer], touchpoint: Touchpoint, first: int) -> list[InteractionInput]:
    return [
        InteractionInput(
            customer_id=customer.pk,
            touchpoint_id=touchpoint.pk,
            occurred_at=START + timedelta(minutes=n),
            source="shop",
            external_id=f"order-{first + n}",
            order_ref=f"A-{first + n}",
            amount=Decimal("12.50"),
            currency="EUR",
            metadata={"basket": n, "note": 'naïve "quoted"\ttab'},
        )
        for n, customer in enumerate(customers)
    ]


@pytest.fixture
def setup() -> tuple[list[Customer], Touchpoint]:
    touchpoint = TouchpointFactory(slug="checkout", stage=JourneyStage.ORDER)
    SurveyFactory(trigger_stage=JourneyStage.ORDER, delay=timedelta(hours=2))
    customers = [CustomerFactory() for _ in range(BATCH)]
    return customers, touchpoint


@pytest.mark.parametrize("size", [3, BATCH])
def test_new_rows_are_stored_with_ids_and_invitations(
    setup: tuple[list[Customer], Touchpoint], size: int
) -> None:
    customers, touchpoint = setup
    results = interactions_record_bulk(items=items(customers[:size], touchpoint, 0))

    assert [r.created for r in results] == [True] * size
    assert [r.invitations for r in results] == [1] * size
    stored = {i.pk: i for i in Interaction.objects.all()}
    assert {r.id for r in results} == set(stored)
    first = stored[results[0].id]
    assert (first.external_id, first.order_ref, first.amount, first.currency) == (
        "order-0",
        "A-0",
        Decimal("12.50"),
        "EUR",
    )
    assert first.metadata == {"basket": 0, "note": 'naïve "quoted"\ttab'}
    assert first.created_at is not None
    invitations = list(Invitation.objects.all())
    assert len(invitations) == size
    assert len({i.token for i in invitations}) == size and all(
        len(i.token) >= 40 for i in invitations
    )
    for invitation in invitations:
        assert invitation.state == InvitationState.SCHEDULED
        assert invitation.interaction.customer_id == invitation.customer_id
        assert invitation.scheduled_for == invitation.interaction.occurred_at + timedelta(hours=2)
        assert invitation.expires_at is not None and invitation.created_at is not None
        assert invitation.attempts == 0 and invitation.updated_at is not None


@pytest.mark.parametrize("size", [3, BATCH])
def test_a_resent_batch_returns_the_stored_rows_and_records_only_the_new(
    setup: tuple[list[Customer], Touchpoint], size: int
) -> None:
    customers, touchpoint = setup
    first = interactions_record_bulk(items=items(customers[: size - 1], touchpoint, 0))
    again = interactions_record_bulk(items=items(customers[:size], touchpoint, 0))

    assert [r.created for r in again] == [False] * (size - 1) + [True]
    assert [r.id for r in again[:-1]] == [r.id for r in first]
    assert [r.invitations for r in again] == [0] * (size - 1) + [1]
    assert Interaction.objects.count() == size


def test_an_event_repeated_within_the_batch_is_recorded_once(
    setup: tuple[list[Customer], Touchpoint],
) -> None:
    customers, touchpoint = setup
    batch = items(customers[: BATCH - 10], touchpoint, 0)
    results = interactions_record_bulk(items=[*batch, batch[0]])
    assert results[-1].created is False
    assert results[-1].id == results[0].id
    assert Interaction.objects.count() == BATCH - 10


@pytest.mark.parametrize("size", [3, BATCH])
def test_references_by_external_id_and_slug_are_resolved(
    setup: tuple[list[Customer], Touchpoint], size: int
) -> None:
    customers, touchpoint = setup
    for n, customer in enumerate(customers[:size]):
        customer.external_id = f"cust-{n}"
        customer.save(update_fields=["external_id"])
    named = [
        item._replace(
            customer_id=None, customer_external_id=f"cust-{n}", touchpoint_id=None,
            touchpoint_slug="checkout",
        )
        for n, item in enumerate(items(customers[:size], touchpoint, 0))
    ]  # fmt: skip

    results = interactions_record_bulk(items=named)

    stored = dict(Interaction.objects.values_list("external_id", "customer_id"))
    assert stored == {f"order-{n}": customers[n].pk for n in range(size)}
    assert set(Interaction.objects.values_list("touchpoint_id", flat=True)) == {touchpoint.pk}
    assert [r.invitations for r in results] == [1] * size
    assert set(Invitation.objects.values_list("customer_id", flat=True)) == {
        c.pk for c in customers[:size]
    }


@pytest.mark.parametrize("size", [3, BATCH])
def test_unknown_references_write_nothing_and_are_named_per_item(
    setup: tuple[list[Customer], Touchpoint], size: int
) -> None:
    customers, touchpoint = setup
    batch = items(customers[:size], touchpoint, 0)
    batch[1] = batch[1]._replace(customer_id=None, customer_external_id="nobody")
    batch[-1] = batch[-1]._replace(touchpoint_id=None, touchpoint_slug="nowhere")
    batch[0] = batch[0]._replace(customer_id=10**12)

    with pytest.raises(UnknownReferences) as raised:
        interactions_record_bulk(items=batch)

    errors = raised.value.errors
    assert len(errors) == size
    assert errors[0] == {"customer": [f"No customer with id {10**12}."]}
    assert errors[1] == {"customer_external_id": ["No customer with this external_id."]}
    assert errors[-1] == {"touchpoint": ["No touchpoint with slug 'nowhere'."]}
    assert all(e == {} for e in errors[2:-1])
    assert not Interaction.objects.exists() and not Invitation.objects.exists()
