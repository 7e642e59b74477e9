"""The triage queue is one page, the ticket changelist: /admin/queue/ redirects to it keeping the
filters, it is drawn by the admin's templates (cells escaped, strings translated), its count
stops at the TicketAdmin's cap, and who may see it is the admin's ticket permission. Ordering,
filters, search and bulk actions: tests/unit/test_ticket_admin.py."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.timezone import template_localtime

from feedback.tickets.admin.tickets import TicketAdmin
from feedback.tickets.models import TicketEvent, TicketStatus
from tests.factories import (
    CustomerFactory,
    ResponseFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TRIAGE = reverse("ticket-queue")
CHANGELIST = reverse("admin:feedback_ticket_changelist")


def _staff(*codenames: str, username: str | None = None) -> Any:
    kwargs = {"username": username} if username else {}
    user = UserFactory(password=None, **kwargs)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="feedback", codename__in=codenames)
    )
    return user


@pytest.fixture
def agent() -> Any:
    return _staff("view_ticket", "change_ticket", username="ann")


@pytest.fixture
def agent_client(agent: Any) -> Client:
    client = Client()
    client.force_login(agent)
    return client


def _ids(page: Any) -> list[int]:
    """The tickets the page shows, in order, as its checkboxes name them."""
    return [
        int(pk)
        for pk in re.findall(r'name="_selected_action" value="(\d+)"', page.content.decode())
    ]


def test_the_queue_address_redirects_to_the_changelist_keeping_the_filters(
    agent_client: Client,
) -> None:
    reply = agent_client.get(TRIAGE, {"assignee": "me", "queue": "overdue"})

    assert reply.status_code == 302
    assert reply["Location"] == f"{CHANGELIST}?assignee=me&queue=overdue"
    assert agent_client.get(TRIAGE, follow=True).context["title"] == "Triage queue"


def test_the_admin_index_links_to_the_one_queue(agent_client: Client) -> None:
    index = agent_client.get(reverse("admin:index")).content.decode()
    assert f'href="{TRIAGE}"' in index
    # The changelist no longer links to a second "triage queue" page.
    assert f'href="{TRIAGE}' not in agent_client.get(CHANGELIST).content.decode()


def test_rows_show_the_columns_escaped_and_link_to_the_ticket_page(agent_client: Client) -> None:
    answer = ResponseFactory(score=1)
    ticket = TicketFactory(
        response=answer,
        customer=CustomerFactory(name='O"Brien <i>', email="ob@shop.example"),
        subject="<script>alert(1)</script>",
        assignee=UserFactory(password=None, username="dora"),
        touchpoint=TouchpointFactory(name="Till & <b>"),
        priority=4,
        due_at=timezone.now() - timedelta(hours=2, minutes=5),
    )

    html = agent_client.get(CHANGELIST).content.decode()

    assert "<script>alert" not in html
    assert f"#{ticket.pk} &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "O&quot;Brien &lt;i&gt;" in html
    assert "Till &amp; &lt;b&gt;" in html
    assert f'href="{reverse("admin:feedback_ticket_change", args=[ticket.pk])}' in html
    assert ">overdue by 2 h<" in html
    assert "cx-prio--urgent" in html and "cx-score--bad" in html and ">dora<" in html
    assert _ids(agent_client.get(CHANGELIST)) == [ticket.pk]
    assert "1 ticket\n" in html


def test_row_links_and_dates_are_the_admins_own(agent_client: Client) -> None:
    """The rows' links (built from one reverse()) and created dates (the short format, so the
    table fits 1366 px; resolved once per page) are what the admin's url_for_result, preserved
    filters and date_format give."""
    tickets = [TicketFactory(), TicketFactory()]

    html = agent_client.get(CHANGELIST, {"queue": "all"}).content.decode()

    for ticket in tickets:
        url = reverse("admin:feedback_ticket_change", args=[ticket.pk])
        filters = urlencode({"_changelist_filters": "queue=all"})
        assert f'href="{url}?{filters}"' in html
        created = date_format(template_localtime(ticket.created_at), "SHORT_DATETIME_FORMAT")
        assert f">{created}<" in html


def test_visible_strings_are_translated(agent_client: Client) -> None:
    TicketFactory(due_at=timezone.now() + timedelta(hours=3))
    html = agent_client.get(CHANGELIST, headers={"accept-language": "pl"}).content.decode()
    # The admin's templates in the staff member's language: the queue is not hand-drawn.
    assert 'lang="pl"' in html and "Akcja" in html and "Filtr" in html


def test_a_count_past_the_cap_is_shown_as_at_least(
    agent_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TicketAdmin, "count_cap", 3)
    for _ in range(5):
        TicketFactory(status=TicketStatus.OPEN)

    with CaptureQueriesContext(connection) as ctx:
        html = agent_client.get(CHANGELIST).content.decode()

    assert 'class="cx-count cx-count--capped"' in html and ">3+</span> tickets" in html
    # The count reads at most cap + 1 rows; the page still shows all five.
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 4" in counts[0], counts
    assert len(_ids(agent_client.get(CHANGELIST))) == 5


def test_pages_link_to_each_other_keeping_the_filters(
    agent_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TicketAdmin, "list_per_page", 2)
    for _ in range(3):
        TicketFactory(status=TicketStatus.OPEN)

    html = agent_client.get(CHANGELIST, {"queue": "open"}).content.decode()

    assert 'href="?p=2&amp;queue=open"' in html


def test_a_viewer_sees_the_queue_without_ticket_actions_and_cannot_run_them() -> None:
    viewer = _staff("view_ticket")
    client = Client()
    client.force_login(viewer)
    ticket = TicketFactory()

    page = client.get(CHANGELIST)
    assert page.status_code == 200 and _ids(page) == [ticket.pk]
    html = page.content.decode()
    # The site-wide CSV export, none of the actions that change tickets.
    assert 'value="export_csv"' in html and 'value="assign_to_me"' not in html
    client.post(CHANGELIST, {"action": "assign_to_me", "_selected_action": [ticket.pk], "index": 0})
    assert not TicketEvent.objects.exists()


def test_staff_without_ticket_permission_is_refused_and_others_sent_to_sign_in() -> None:
    client = Client()
    client.force_login(_staff())
    assert client.get(CHANGELIST).status_code == 403

    anonymous = Client().get(TRIAGE, follow=True)
    assert "login" in anonymous.redirect_chain[-1][0]
    customer_account = UserFactory(password=None, is_staff=False)
    client.force_login(customer_account)
    assert client.get(CHANGELIST).status_code == 302
