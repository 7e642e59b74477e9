"""Changelists over big tables read no whole table: no ``SELECT DISTINCT`` list filter over
the table, no date hierarchy (its first level is a DISTINCT over every row), a capped count,
no facets, a default order an index serves, and searches that say when they are slow."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import AuditEntry, Customer
from cxcrm.admin_lists import BigTableAdminMixin, RecentFilter
from cxcrm.models import WebhookDelivery
from cxcrm.pagination import CappedCountPaginator
from feedback.inbound.models import InboundEmail
from feedback.insights.models import CommentInsight, TopicAssignment
from feedback.surveys.models import Invitation, OutboundEmail, Response
from feedback.tickets.models import TicketEvent, TicketMessage
from tests.factories import CustomerFactory, ResponseFactory
from touchpoints.models import Interaction

pytestmark = pytest.mark.django_db

BIG_TABLES: list[type[Model]] = [
    Response,
    Invitation,
    Interaction,
    Customer,
    OutboundEmail,
    InboundEmail,
    TicketEvent,
    TicketMessage,
    WebhookDelivery,
    AuditEntry,
    CommentInsight,
    TopicAssignment,
]


def _url(model: type[Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda m: m._meta.label)
def test_big_changelist_is_capped_and_has_no_hierarchy(model: type[Model]) -> None:
    model_admin = admin.site.get_model_admin(model)
    assert isinstance(model_admin, BigTableAdminMixin)
    assert model_admin.paginator is CappedCountPaginator
    assert model_admin.show_full_result_count is False
    assert model_admin.show_facets == admin.ShowFacets.NEVER
    assert model_admin.date_hierarchy is None


@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda m: m._meta.label)
def test_big_changelist_runs_no_distinct_over_its_table(
    admin_client: Client, model: type[Model]
) -> None:
    table = model._meta.db_table
    with CaptureQueriesContext(connection) as ctx:
        page = admin_client.get(_url(model))
    assert page.status_code == 200
    distinct = [q["sql"] for q in ctx.captured_queries if "DISTINCT" in q["sql"].upper()]
    assert [sql for sql in distinct if re.search(rf'FROM "{table}"', sql)] == []


@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda m: m._meta.label)
def test_searches_are_exact_or_say_they_are_slow(model: type[Model]) -> None:
    model_admin = admin.site.get_model_admin(model)
    partial = [f for f in model_admin.search_fields if not f.endswith("__exact")]
    if partial:
        assert "slow" in str(model_admin.search_help_text), partial


@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda m: m._meta.label)
def test_default_order_starts_with_an_indexed_column(model: type[Model]) -> None:
    # The changelist's default order: the admin's own, else the model's.
    ordering = admin.site.get_model_admin(model).ordering or model._meta.ordering
    first = str(ordering[0]).lstrip("-")
    indexed = {str(f).lstrip("-") for i in model._meta.indexes for f in i.fields[:1]}
    field = model._meta.get_field(first)
    assert first in indexed or getattr(field, "db_index", False) or field.primary_key


def test_recent_filter_keeps_the_rows_of_the_period(admin_client: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    recent = ResponseFactory(submitted_at=timezone.now() - timedelta(days=3))
    ResponseFactory(submitted_at=timezone.now() - timedelta(days=40))
    page = admin_client.get(_url(Response), {"submitted_at__recent": RecentFilter.WEEK})
    assert list(page.context["cl"].result_list) == [recent]
    page = admin_client.get(_url(Response), {"submitted_at__recent": RecentFilter.QUARTER})
    assert len(page.context["cl"].result_list) == 2


def test_customer_language_filter_lists_settings_languages(admin_client: Client) -> Any:
    polish = CustomerFactory(language="pl")
    CustomerFactory(language="en")
    page = admin_client.get(_url(Customer), {"language": "pl"})
    assert list(page.context["cl"].result_list) == [polish]


@pytest.mark.postgres
@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda m: m._meta.label)
def test_the_first_page_is_read_in_index_order(admin_client: Client, model: type[Model]) -> None:
    """The changelist's queryset (its default order, its joins), cut to a page, walks an
    index and stops: a full Sort would read the whole table at any size (an Incremental Sort,
    ties of the indexed column put in id order, reads only the rows it returns). Sequential
    scans are priced out and the page is one row, so that the planner, on a test table too
    small to prefer any index by itself, picks the ordered index whenever one exists."""
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's plan")
    table = model._meta.db_table
    page = admin_client.get(_url(model))
    assert page.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # until the test's transaction ends
    plan = page.context["cl"].queryset[:1].explain()
    assert f"Seq Scan on {table}" not in plan, plan
    assert not re.search(r"(^|->)\s*Sort  \(", plan, re.MULTILINE), plan
    assert re.search(rf"Index (Only )?Scan( Backward)? using \S+ on {table}\b", plan), plan
