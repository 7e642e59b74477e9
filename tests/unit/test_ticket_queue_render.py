"""The triage queue draws its table and filter bar in one Python pass
(feedback.admin.queue.TicketQueueChangeList): the markup must be Django's own, for every kind
of row, with sorting and filters in the URL; popups fall back to Django's table; the filter
choice lists are cached for a minute."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.templatetags.admin_list import admin_list_filter, result_list
from django.db import connection
from django.template.loader import get_template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.admin.queue import TicketQueueChangeList
from feedback.models import TicketSource, TicketStatus
from tests.factories import (
    CustomerFactory,
    ResponseFactory,
    RootCauseFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:feedback_ticket_changelist")


def _squeeze(html: str) -> str:
    """Markup without the template's indentation (whitespace between and inside tags)."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def _every_kind_of_row() -> None:
    now = timezone.now()
    answer = ResponseFactory(score=1)
    TicketFactory(
        response=answer,
        customer=answer.customer,
        touchpoint=answer.touchpoint,
        assignee=UserFactory(password=None, username="dora"),
        due_at=now - timedelta(hours=3),
    )
    TicketFactory(
        customer=CustomerFactory(name="", email="o'brien&co@shop.example"),
        subject='Box <b>"wet"</b>',
        source=TicketSource.EMAIL,
        touchpoint=None,
        assignee=None,
        due_at=None,
    )
    TicketFactory(
        customer=CustomerFactory(name="", email=""),
        source=TicketSource.RESPONSE,
        first_contact_at=now,
        due_at=now + timedelta(hours=2),
    )
    TicketFactory(priority=4, due_at=now + timedelta(days=3))
    TicketFactory(status=TicketStatus.RESOLVED, root_cause=RootCauseFactory(), resolved_at=now)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"queue": "all", "o": "-8.3"},
        {"queue": "all", "assignee": "none", "q": "shop"},
        {"touchpoint__stage__exact": "payment", "_facets": "1"},
    ],
)
def test_table_and_filters_are_djangos_markup(admin_client: Client, params: dict[str, Any]) -> None:
    _every_kind_of_row()
    page = admin_client.get(QUEUE, params)
    assert page.status_code == 200
    cl = page.context["cl"]
    assert isinstance(cl, TicketQueueChangeList) and cl.fast_rows

    djangos_table = get_template("admin/change_list_results.html").render(result_list(cl))
    assert _squeeze(cl.results_html()) == _squeeze(djangos_table)
    djangos_filters = "".join(str(admin_list_filter(cl, spec)) for spec in cl.filter_specs)
    assert _squeeze(cl.filters_html()) == _squeeze(djangos_filters)
    # And the page printed them (the row links keep the filters for the way back).
    assert _squeeze(cl.results_html()) in _squeeze(page.content.decode())


def test_escaping_of_what_customers_typed(admin_client: Client) -> None:
    _every_kind_of_row()
    html = admin_client.get(QUEUE).content.decode()
    assert "#" in html and "Box &lt;b&gt;&quot;wet&quot;&lt;/b&gt;" in html
    assert "o&#x27;brien&amp;co@shop.example" in html
    assert "<b>" not in html.split('id="result_list"')[1]


def test_a_popup_gets_djangos_own_table(admin_client: Client) -> None:
    TicketFactory()
    page = admin_client.get(QUEUE, {"_popup": "1"})
    assert page.status_code == 200
    assert not page.context["cl"].fast_rows
    assert b"data-popup-opener" in page.content


def test_filter_choice_lists_are_cached(admin_client: Client) -> None:
    TouchpointFactory(name="Parcel locker")
    admin_client.get(QUEUE)
    with CaptureQueriesContext(connection) as ctx:
        page = admin_client.get(QUEUE)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    # Warm: neither the staff accounts nor the touchpoints are listed again (the page query
    # still joins the touchpoint of each row).
    assert 'FROM "touchpoints_touchpoint"' not in sql
    assert 'AND "auth_user"."is_staff")' not in sql
    assert b"Parcel locker" in page.content
