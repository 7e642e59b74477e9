"""/api/v1/touchpoints/ and /api/v1/interactions/: one or up to 1,000 per POST, idempotent,
all or nothing, the survey rules applied exactly as one by one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from feedback.surveys.models import Invitation
from feedback.tickets.models import TicketStatus
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import (
    CAN_READ,
    CAN_WRITE,
    DENIED,
    PERSONAS,
    count_get,
    rows,
)
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.models import Interaction, JourneyStage, Touchpoint
from touchpoints.services import (
    InteractionInput,
    interaction_record,
    interactions_record_bulk,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/interactions/"


def _item(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "source": "shop",
        "external_id": f"o-{n}",
        "customer_external_id": "c-1",
        "touchpoint": "checkout",
        "occurred_at": "2025-03-01T10:00:00Z",
        "amount": "12.50",
        "currency": "EUR",
        **extra,
    }


@pytest.fixture
def catalogue(db: Any) -> None:
    CustomerFactory(external_id="c-1")
    TouchpointFactory(slug="checkout", stage=JourneyStage.ORDER)


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_read_and_record(persona_client: Any, persona: str, catalogue: None) -> None:
    client = persona_client(persona)

    listed = client.get(URL)
    recorded = client.post(URL, _item(1), format="json")
    touchpoints = client.get("/api/v1/touchpoints/")

    assert listed.status_code == (200 if CAN_READ[persona] else DENIED[persona])
    assert touchpoints.status_code == (200 if CAN_READ[persona] else DENIED[persona])
    assert recorded.status_code == (201 if CAN_WRITE[persona] else DENIED[persona])
    assert Interaction.objects.exists() == CAN_WRITE[persona]


def test_one_interaction_is_idempotent(write_client: Any, catalogue: None) -> None:
    first = write_client.post(URL, _item(1), format="json")
    again = write_client.post(URL, _item(1), format="json")

    assert first.status_code == 201
    assert first.json()["created"] is True
    assert first.json()["touchpoint"] == "checkout"
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert Interaction.objects.count() == 1


def test_a_list_gives_a_result_per_item(write_client: Any, catalogue: None) -> None:
    write_client.post(URL, _item(2), format="json")

    reply = write_client.post(URL, [_item(1), _item(2), _item(3), _item(1)], format="json")

    assert reply.status_code == 200
    results = reply.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["created"] for r in results] == [True, False, True, False]
    assert results[3]["id"] == results[0]["id"]
    assert Interaction.objects.count() == 3


def test_one_bad_item_refuses_the_whole_list(write_client: Any, catalogue: None) -> None:
    reply = write_client.post(
        URL,
        [_item(1), _item(2, currency="euro"), _item(3, touchpoint="nowhere"), _item(4)],
        format="json",
    )

    assert reply.status_code == 400
    errors = reply.json()
    assert len(errors) == 4
    assert errors[0] == {} and errors[3] == {}
    assert "currency" in errors[1]
    assert "touchpoint" in errors[2]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        [],
        "just a string",
        42,
        {"source": "shop"},
        _item(1, customer=1, customer_external_id="c-1"),
        _item(1, customer=2**70),
        _item(1, occurred_at="yesterday"),
        _item(1, amount="1e400"),
        _item(1, metadata=[1, 2]),
    ],
)
def test_bad_bodies_are_400(write_client: Any, catalogue: None, body: Any) -> None:
    assert write_client.post(URL, body, format="json").status_code == 400
    assert not Interaction.objects.exists()


def test_more_than_a_thousand_is_refused(write_client: Any, catalogue: None) -> None:
    reply = write_client.post(URL, [_item(n) for n in range(1001)], format="json")

    assert reply.status_code == 400
    assert not Interaction.objects.exists()


@pytest.mark.postgres
def test_bulk_write_is_a_fixed_number_of_queries(write_client: Any, catalogue: None) -> None:
    SurveyFactory(trigger_stage=JourneyStage.ORDER)

    def post(count: int, offset: int) -> int:
        body = []
        for n in range(offset, offset + count):
            CustomerFactory(external_id=f"c-{n}")
            body.append(_item(n, customer_external_id=f"c-{n}"))
        with CaptureQueriesContext(connection) as ctx:
            reply = write_client.post(URL, body, format="json")
        assert reply.status_code == 200
        assert all(r["invitations"] == 1 for r in reply.json()["results"])
        return len(ctx)

    write_client.get(URL)  # the key's last-used time
    few, more = post(2, 1000), post(3, 2000)
    many, most = post(50, 3000), post(55, 4000)
    # 1 the API key; [savepoint: the service's transaction] 2 customers by id or external id;
    # 3 touchpoints by id or slug; 4 existing (source, external_id) pairs; [savepoint] 5 INSERT
    # of the interactions [release]; the survey rules (no savepoint of their own): 6 active
    # surveys, 7 their trigger touchpoints, 8 the stages of the batch's touchpoints, 9 which
    # of these customers are reachable without an open ticket, 10 their invitations in the
    # frequency window, 11 INSERT of the invitations; [release]. 11 queries + 4 savepoints.
    assert few == more == many == most == 15


def test_list_query_count_does_not_grow(read_client: Any) -> None:
    InteractionFactory.create_batch(2)
    few, _ = count_get(read_client, URL)
    InteractionFactory.create_batch(18)
    many, reply = count_get(read_client, URL)

    assert len(rows(reply)) == 20
    assert few == many
    # 1 the API key, 2 the page joined with customer and touchpoint (cursor: no COUNT).
    assert many == 2


def test_touchpoint_list_query_count_does_not_grow(read_client: Any) -> None:
    TouchpointFactory.create_batch(2, owner=UserFactory(password=None))
    few, _ = count_get(read_client, "/api/v1/touchpoints/")
    for _ in range(18):
        TouchpointFactory(owner=UserFactory(password=None))
    many, reply = count_get(read_client, "/api/v1/touchpoints/")

    assert len(rows(reply)) == 20
    assert few == many
    # 1 the API key, 2 COUNT(*), 3 the page joined with the owner.
    assert many == 3


def test_interaction_filters(read_client: Any) -> None:
    InteractionFactory(source="pos", customer=CustomerFactory(external_id="c-7"))
    InteractionFactory(source="shop", occurred_at=timezone.now() - timedelta(days=10))

    assert len(rows(read_client.get(URL, {"source": "pos"}))) == 1
    assert len(rows(read_client.get(URL, {"customer_external_id": "c-7"}))) == 1
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert len(rows(read_client.get(URL, {"occurred_after": since}))) == 1


def _scenario() -> list[InteractionInput]:
    """Customers and surveys that exercise every rule: unreachable, open ticket, the
    contact-frequency window within the batch and against earlier invitations, two surveys."""
    order = TouchpointFactory(slug="order", stage=JourneyStage.ORDER)
    usage = TouchpointFactory(slug="usage", stage=JourneyStage.USAGE)
    SurveyFactory(trigger_stage=JourneyStage.ORDER)
    by_touchpoint = SurveyFactory(trigger_stage="", contact_frequency_days=0)
    by_touchpoint.trigger_touchpoints.add(usage)
    SurveyFactory(trigger_stage=JourneyStage.ORDER, active=False)
    happy = CustomerFactory()
    unsubscribed = CustomerFactory(unsubscribed_at=timezone.now())
    with_ticket = CustomerFactory()
    TicketFactory(customer=with_ticket, status=TicketStatus.NEW)
    invited_before = CustomerFactory()
    InvitationFactory_ = __import__("tests.factories", fromlist=["InvitationFactory"])
    InvitationFactory_.InvitationFactory(
        customer=invited_before, interaction=InteractionFactory(customer=invited_before)
    )
    now = timezone.now()
    items = []
    for n, (customer, touchpoint, days) in enumerate(
        [
            (happy, order, 0),
            (happy, order, 1),  # within 30 days of the first: not invited
            (happy, usage, 2),  # the touchpoint survey has no frequency rule
            (happy, order, 45),  # outside the window again
            (unsubscribed, order, 0),
            (with_ticket, order, 0),
            (invited_before, order, 0),
        ]
    ):
        items.append(
            InteractionInput(
                customer_id=customer.pk,
                touchpoint_id=touchpoint.pk,
                occurred_at=now + timedelta(days=days),
                source="test",
                external_id=f"e-{n}",
            )
        )
    return items


def _outcome() -> list[tuple[str, int, str]]:
    return sorted(
        (i.interaction.external_id, i.survey_id, i.scheduled_for.isoformat())
        for i in Invitation.objects.filter(interaction__source="test")
    )


def test_bulk_applies_the_survey_rules_like_one_by_one() -> None:
    items = _scenario()
    results = interactions_record_bulk(items=items)
    bulk = _outcome()
    bulk_counts = [r.invitations for r in results]
    Invitation.objects.filter(interaction__source="test").delete()
    Interaction.objects.filter(source="test").delete()

    one_by_one = [
        interaction_record(
            customer=Customer.objects.get(pk=i.customer_id),
            touchpoint=Touchpoint.objects.get(pk=i.touchpoint_id),
            occurred_at=i.occurred_at,
            source=i.source,
            external_id=i.external_id,
        ).invitations
        for i in items
    ]

    assert bulk_counts == one_by_one == [1, 0, 1, 1, 0, 0, 0]
    # Survey ids are the same; compare which interactions were invited, and when.
    assert [(e, t) for e, _, t in bulk] == [(e, t) for e, _, t in _outcome()]
