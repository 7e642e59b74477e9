"""The one rule for references: customers by id or external id, touchpoints by id or slug,
each in one query whatever the number of references."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.selectors import customer_resolve_many
from tests.factories import CustomerFactory, TouchpointFactory
from touchpoints.selectors import touchpoint_resolve_many

pytestmark = pytest.mark.django_db


def test_customers_resolve_by_id_and_external_id_in_one_query() -> None:
    first = CustomerFactory(external_id="c-1")
    second = CustomerFactory(external_id="c-2")

    with CaptureQueriesContext(connection) as ctx:
        found = customer_resolve_many([first.pk, "c-2", "nobody", 10**12])

    assert len(ctx) == 1
    assert found == {first.pk: first, "c-2": second}


def test_touchpoints_resolve_by_id_and_slug_in_one_query() -> None:
    checkout = TouchpointFactory(slug="checkout")
    store = TouchpointFactory(slug="store")

    with CaptureQueriesContext(connection) as ctx:
        found = touchpoint_resolve_many(["checkout", store.pk, "nowhere"])

    assert len(ctx) == 1
    assert found == {"checkout": checkout, store.pk: store}


def test_no_references_no_query() -> None:
    with CaptureQueriesContext(connection) as ctx:
        assert customer_resolve_many([]) == {} and touchpoint_resolve_many([]) == {}
    assert len(ctx) == 0


def test_only_the_fields_asked_for_are_read() -> None:
    customer = CustomerFactory(external_id="c-1")
    checkout = TouchpointFactory(slug="checkout")

    customers = customer_resolve_many([customer.pk, "c-1"], only=())
    touchpoints = touchpoint_resolve_many(["checkout", checkout.pk], only=())

    assert customers == {customer.pk: customer, "c-1": customer}
    assert touchpoints == {"checkout": checkout, checkout.pk: checkout}
    assert "email" in customers["c-1"].get_deferred_fields()
    assert "name" in touchpoints["checkout"].get_deferred_fields()
    assert "external_id" not in customers[customer.pk].get_deferred_fields()
