"""The customer page: a profile (header, attributes, answers, tickets, interactions) with the
plain fields editable by those allowed, a bounded number of queries, and read-only once the
customer is erased."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.admin import CustomerAdmin
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    ResponseFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def editor() -> Client:
    user = UserFactory(password=None, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers", codename__in=["view_customer", "change_customer"]
        )
    )
    client = Client()
    client.force_login(user)
    return client


def _page(client: Client, customer: Customer) -> tuple[int, Any]:
    ContentType.objects.clear_cache()
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert page.status_code == 200
    return len(ctx), page


def _history(customer: Customer, n: int) -> None:
    for i in range(n):
        response = ResponseFactory(
            invitation__interaction__customer=customer, comment=f"Comment {i}"
        )
        TicketFactory(customer=customer, response=response)
        InteractionFactory(customer=customer, order_ref="", amount=None)


def test_the_page_is_a_profile_with_history_and_a_compact_form() -> None:
    customer = CustomerFactory(
        name="Лена", language="ru", segment="vip", tags=["gold"], attributes={"plan": "pro"}
    )
    ResponseFactory(invitation__interaction__customer=customer, score=2, comment="Late again")

    _count, page = _page(editor(), customer)
    html = page.content.decode()

    assert "Russian" in html and "Subscribed" in html
    assert '<th scope="row" dir="auto">plan</th><td dir="auto">pro</td>' in html
    assert "Late again" in html and 'id="cx-panel-tickets"' in html
    assert 'name="attributes"' not in html and 'name="tags"' not in html  # not JSON boxes
    assert 'name="name"' in html and 'name="_save"' in html


def test_the_page_runs_the_same_queries_for_1_and_25_history_rows() -> None:
    customer = CustomerFactory()
    client = editor()
    _history(customer, 1)
    few, _page1 = _page(client, customer)
    _history(customer, 24)
    many, page = _page(client, customer)

    assert few == many
    assert page.content.decode().count('class="cx-panel"') == 3
    # 1 session, 2 user, 3 the MFA check, 4-5 the user's permissions (own and groups'),
    # 6 the customer, 7 the audit entry of the view (insert), 8 answers (touchpoint joined),
    # 9 tickets, 10 interactions (touchpoint joined), 11 the history link's content type.
    assert many == 11, many


def test_an_erased_customer_is_read_only_for_everyone() -> None:
    customer = CustomerFactory(erased_at=timezone.now(), email="", name="")
    client = editor()

    _count, page = _page(client, customer)
    html = page.content.decode()

    assert 'name="_save"' not in html and 'name="name"' not in html
    assert "Erased" in html
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    refused = client.post(url, {"name": "Back again", "language": "en"})
    assert refused.status_code == 403
    customer.refresh_from_db()
    assert customer.name == ""
    assert not CustomerAdmin(Customer, None).has_change_permission(
        type("R", (), {"user": UserFactory(is_superuser=True, password=None)})(), customer
    )
