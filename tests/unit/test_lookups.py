"""``any_of``: the same rows as ``in``, on SQLite (where it is ``in``) and PostgreSQL (one
array parameter cast to the column's type)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from feedback.surveys.models import Invitation
from tests.factories import CustomerFactory, InvitationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_any_of_finds_what_in_finds() -> None:
    customers = [CustomerFactory(external_id=f"ext-{n}") for n in range(5)]
    wanted = [customers[0].external_id, customers[3].external_id, "missing", None]
    assert set(Customer.objects.filter(external_id__any_of=wanted)) == {
        customers[0],
        customers[3],
    }
    assert not Customer.objects.filter(external_id__any_of=[]).exists()


def test_any_of_on_a_foreign_key_takes_ids_and_sends_one_parameter() -> None:
    invitations = [InvitationFactory() for _ in range(3)]
    ids = [invitations[0].customer_id, invitations[2].customer_id]
    with CaptureQueriesContext(connection) as ctx:
        found = set(Invitation.objects.filter(customer_id__any_of=ids))
    assert found == {invitations[0], invitations[2]}
    if connection.vendor == "postgresql":
        assert "= ANY(" in ctx.captured_queries[0]["sql"]
        assert "::bigint[]" in ctx.captured_queries[0]["sql"]
