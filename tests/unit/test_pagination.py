"""The capped-count paginator of the big changelists: it counts at most cap + 1 rows, reports
at most the cap, and the ticket queue still renders with a result count ("N+" past the cap)
in a constant number of queries. Caps are set small here so a handful of rows cross them."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cxcrm.pagination import CappedCountPaginator
from feedback.tickets.admin.tickets import TicketAdmin
from feedback.tickets.models import Ticket, TicketStatus
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:feedback_ticket_changelist")


def _tickets(n: int) -> None:
    for _ in range(n):
        TicketFactory(status=TicketStatus.OPEN)


def test_count_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    _tickets(5)
    paginator = CappedCountPaginator(Ticket.objects.order_by("id"), per_page=2)
    with CaptureQueriesContext(connection) as ctx:
        assert paginator.count == 3
        assert paginator.capped
        assert paginator.count_display == "3+"
    # One query, bounded: it reads at most cap + 1 rows and is not re-run.
    assert len(ctx) == 1
    assert "LIMIT 4" in ctx[0]["sql"]
    assert paginator.num_pages == 2


def test_count_is_exact_below_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CappedCountPaginator, "cap", 10)
    _tickets(5)
    paginator = CappedCountPaginator(Ticket.objects.order_by("id"), per_page=2)
    assert paginator.count == 5
    assert not paginator.capped
    assert paginator.count_display == "5"
    # Below the cap, Django's own page arithmetic (last page cut to the count).
    assert len(paginator.page(3).object_list) == 1


def test_a_capped_page_is_not_cut_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    _tickets(5)
    paginator = CappedCountPaginator(Ticket.objects.order_by("id"), per_page=4)
    # Django would stop the first page at the (capped) count of 3.
    assert len(paginator.page(1).object_list) == 4


def test_lists_are_counted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    assert CappedCountPaginator(list(range(7)), per_page=2).count_display == "3+"
    assert CappedCountPaginator(list(range(2)), per_page=2).count_display == "2"


def test_big_changelists_use_it() -> None:
    from django.contrib import admin

    from feedback.inbound.models import InboundEmail
    from feedback.surveys.models import Invitation, OutboundEmail, Response
    from feedback.tickets.models import TicketEvent, TicketMessage
    from touchpoints.models import Interaction

    for model in (
        Ticket,
        Interaction,
        Invitation,
        Response,
        OutboundEmail,
        TicketMessage,
        TicketEvent,
        InboundEmail,
    ):
        assert admin.site.get_model_admin(model).paginator is CappedCountPaginator, model


def test_the_ticket_queue_counts_to_its_own_cap() -> None:
    from django.contrib import admin

    paginator = admin.site.get_model_admin(Ticket).get_paginator(None, Ticket.objects.all(), 50)
    assert isinstance(paginator, CappedCountPaginator)
    assert paginator.cap == TicketAdmin.count_cap == 1_000


def _queue(client: Client) -> tuple[int, bytes]:
    ContentType.objects.clear_cache()
    cache.clear()  # the sign-in middleware's MFA check, cold as in test_admin
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(QUEUE)
    assert page.status_code == 200
    return len(ctx), page.content


def test_queue_renders_a_capped_count_in_constant_queries(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TicketAdmin, "count_cap", 3)
    _tickets(2)
    few, content = _queue(admin_client)
    assert b"2 tickets" in content
    assert b"cx-count--capped" not in content

    _tickets(4)
    many, content = _queue(admin_client)
    assert b"3+</span> tickets" in content
    # Every open ticket on the one page: the cap limits the count, not the page.
    assert content.count(b'class="cx-subject"') == 6
    # 1 session, 2 user, 3 the MFA group check, 4 staff users for the assignee filter,
    # 5 touchpoints for the touchpoint filter, 6 the capped COUNT (LIMIT cap + 1), 7 the page
    # joined with customer, response (+ survey), assignee, touchpoint and root cause.
    assert few == many == 7
