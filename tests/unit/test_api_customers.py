"""/api/v1/customers/: personas, upsert by external_id, filters, constant query count."""

from __future__ import annotations

from typing import Any

import pytest

from customers.models import Customer
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import (
    CAN_READ,
    CAN_WRITE,
    DENIED,
    PERSONAS,
    count_get,
    rows,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_list_and_upsert(persona_client: Any, persona: str) -> None:
    CustomerFactory(external_id="c-1")
    client = persona_client(persona)

    listed = client.get(URL)
    upserted = client.post(URL, {"external_id": "c-2", "email": "x@example.com"}, format="json")

    assert listed.status_code == (200 if CAN_READ[persona] else DENIED[persona])
    assert upserted.status_code == (201 if CAN_WRITE[persona] else DENIED[persona])
    assert Customer.objects.filter(external_id="c-2").exists() == CAN_WRITE[persona]


def test_upsert_creates_then_updates_only_the_fields_sent(write_client: Any) -> None:
    first = write_client.post(
        URL, {"external_id": "c-9", "email": "a@example.com", "name": "Ann"}, format="json"
    )
    second = write_client.post(URL, {"external_id": "c-9", "segment": "vip"}, format="json")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    customer = Customer.objects.get(external_id="c-9")
    assert (customer.name, customer.email, customer.segment) == ("Ann", "a@example.com", "vip")


@pytest.mark.parametrize(
    "body",
    [
        {"external_id": "c-1", "email": "not-an-email"},
        {"external_id": "c-1", "language": "English!"},
        {"external_id": "c-1", "country": "gbr"},
        {"external_id": "", "email": "a@example.com"},
        {"email": "a@example.com"},
        {"external_id": 12, "tags": "vip"},
    ],
)
def test_bad_customer_data_is_a_field_error(write_client: Any, body: dict[str, Any]) -> None:
    reply = write_client.post(URL, body, format="json")

    assert reply.status_code == 400
    assert isinstance(reply.json(), dict)
    assert not Customer.objects.exists()


def test_filters(read_client: Any) -> None:
    CustomerFactory(segment="vip", email="vip@example.com")
    CustomerFactory(segment="", unsubscribed_at="2025-01-01T00:00:00Z")

    assert len(rows(read_client.get(URL, {"segment": "vip"}))) == 1
    assert len(rows(read_client.get(URL, {"email": "VIP@example.com"}))) == 1
    assert len(rows(read_client.get(URL, {"reachable": "false"}))) == 1
    assert len(rows(read_client.get(URL, {"reachable": "true"}))) == 1


def test_list_query_count_does_not_grow(read_client: Any) -> None:
    CustomerFactory.create_batch(2)
    few, _ = count_get(read_client, URL)
    CustomerFactory.create_batch(18)
    many, reply = count_get(read_client, URL)

    assert len(rows(reply)) == 20
    assert few == many
    # 1 the API key by prefix, 2 COUNT(*) for the page numbers, 3 the page.
    assert many == 3


@pytest.mark.parametrize("persona", PERSONAS)
def test_export_and_erase_through_the_api(persona_client: Any, persona: str) -> None:
    from customers.models import AuditEntry

    customer = CustomerFactory(email="ex@example.com", name="Ex Ample")
    client = persona_client(persona)

    exported = client.get(f"{URL}{customer.pk}/export/")
    erased = client.post(f"{URL}{customer.pk}/erase/")

    assert exported.status_code == (200 if CAN_READ[persona] else DENIED[persona])
    if CAN_READ[persona]:
        assert exported.json()["customer"]["email"] == "ex@example.com"
    assert erased.status_code == (200 if CAN_WRITE[persona] else DENIED[persona])
    customer.refresh_from_db()
    assert (customer.erased_at is not None) == CAN_WRITE[persona]
    assert (customer.email == "") == CAN_WRITE[persona]
    audited = set(AuditEntry.objects.filter(channel="api").values_list("action", flat=True))
    assert audited == {
        a for a, ok in (("exported", CAN_READ[persona]), ("erased", CAN_WRITE[persona])) if ok
    }
