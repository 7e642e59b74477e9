"""The triage queue page (/admin/queue/, feedback.admin.triage): the changelist's tickets in the
changelist's order for the same query string, its columns and badges escaped, its bulk actions,
staff only, and a fixed number of queries whatever the number of tickets."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from cxcrm.pagination import CappedCountPaginator
from feedback.admin.triage import QueuePaginator
from feedback.models import Ticket, TicketEvent, TicketSource, TicketStatus
from tests.factories import (
    CustomerFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.models import JourneyStage

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


def _admin_ids(page: Any) -> list[int]:
    return [t.pk for t in page.context["cl"].result_list]


def _varied_tickets(agent: Any) -> None:
    """Tickets across every filter's values, with ties in priority and deadline."""
    now = timezone.now()
    other = UserFactory(password=None, username="bob")
    payment = TouchpointFactory(stage=JourneyStage.PAYMENT, name="Checkout")
    support = TouchpointFactory(stage=JourneyStage.SUPPORT, name="Help line")
    csat = SurveyFactory(kind="csat")
    statuses = list(TicketStatus.values)
    for i in range(24):
        answer = None
        if i % 3 == 0:
            answer = ResponseFactory(
                score=1, **({"invitation__survey": csat} if i % 2 else {}), comment=f"note {i}"
            )
        resolved = statuses[i % 5] in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        TicketFactory(
            customer=answer.customer if answer else CustomerFactory(),
            response=answer,
            touchpoint=[payment, support, None][i % 3],
            assignee=[agent, other, None][i % 3 if i % 4 else 2],
            status=statuses[i % 5],
            priority=1 + i % 4,
            source=TicketSource.RESPONSE
            if answer
            else [TicketSource.EMAIL, TicketSource.API][i % 2],
            due_at=[now - timedelta(hours=2), now + timedelta(hours=5), None][i % 3],
            first_contact_at=now if i % 7 == 0 else None,
            root_cause=RootCauseFactory() if resolved else None,
            resolved_at=now if resolved else None,
            subject=f"Ticket {i}",
        )


# Also on PostgreSQL: there the queue reads its count and page through prepared statements
# compiled once per filters (feedback.admin.triage.page_rows), the changelist through the ORM.
@pytest.mark.postgres
def test_the_same_tickets_in_the_same_order_as_the_changelist(
    agent_client: Client, agent: Any
) -> None:
    _varied_tickets(agent)
    touchpoint = Ticket.objects.exclude(touchpoint=None).values_list("touchpoint_id", flat=True)[0]
    other = Ticket.objects.filter(assignee__username="bob").values_list("assignee_id", flat=True)
    queries: list[dict[str, Any]] = [
        {},
        {"queue": "overdue"},
        {"queue": "all"},
        {"status__exact": "resolved"},
        {"queue": "overdue", "status__exact": "new"},
        {"priority__exact": "4"},
        {"assignee": "me"},
        {"assignee": "none"},
        {"assignee": other[0]},
        {"touchpoint__id__exact": touchpoint},
        {"touchpoint__stage__exact": "payment"},
        {"kind": "csat"},
        {"kind": "nps", "queue": "all"},
        {"source__exact": "email"},
        {"q": "note 3"},
        {"q": "Ticket 1", "queue": "all", "priority__exact": "2"},
    ]
    for params in queries:
        ours = agent_client.get(TRIAGE, params)
        theirs = agent_client.get(CHANGELIST, params)
        assert ours.status_code == theirs.status_code == 200, params
        assert _ids(ours) == _admin_ids(theirs), params
    # Not vacuous: the filters do pick different, non-empty lists.
    lists = {tuple(_ids(agent_client.get(TRIAGE, p))) for p in queries}
    assert len(lists) > 10
    assert () not in {tuple(_ids(agent_client.get(TRIAGE, p))) for p in queries[:12]}


@pytest.mark.postgres
def test_the_same_filters_asked_again_show_the_tickets_as_they_are_now(
    agent_client: Client, agent: Any
) -> None:
    """The compiled statements are kept per filters, never their rows or counts; "assigned to
    me" is a different statement for each user."""
    mine = TicketFactory(assignee=agent, priority=2, subject="Mine")
    first = agent_client.get(TRIAGE, {"assignee": "me"})
    newer = TicketFactory(assignee=agent, priority=4, subject="Newer")
    TicketFactory(assignee=None, priority=4)
    Ticket.objects.filter(pk=mine.pk).update(subject="Mine, renamed")

    again = agent_client.get(TRIAGE, {"assignee": "me"})

    assert _ids(first) == [mine.pk]
    assert _ids(again) == [newer.pk, mine.pk]
    assert "Mine, renamed" in again.content.decode()
    assert '<span class="cx-count">2</span> tickets' in again.content.decode()
    other = _staff("view_ticket", username="otto")
    theirs = TicketFactory(assignee=other)
    other_client = Client()
    other_client.force_login(other)
    assert _ids(other_client.get(TRIAGE, {"assignee": "me"})) == [theirs.pk]


def test_the_filter_bar_form_sends_empty_selects_which_filter_nothing(
    agent_client: Client, agent: Any
) -> None:
    _varied_tickets(agent)
    empty = {k: "" for k in ("status__exact", "priority__exact", "assignee", "kind")}

    page = agent_client.get(TRIAGE, {"queue": "open", **empty})

    assert _ids(page) == _admin_ids(agent_client.get(CHANGELIST))
    assert 'name="status__exact"><option value="">Any</option>' in page.content.decode()


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

    html = agent_client.get(TRIAGE).content.decode()

    assert "<script>alert" not in html
    assert f"#{ticket.pk} &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "O&quot;Brien &lt;i&gt;" in html
    assert "Till &amp; &lt;b&gt;" in html
    assert f'href="{reverse("admin:feedback_ticket_change", args=[ticket.pk])}"' in html
    assert ">overdue by 2 h<" in html
    assert "cx-prio--urgent" in html and "cx-score--bad" in html and ">dora<" in html
    assert f'name="_selected_action" value="{ticket.pk}"' in html
    assert '<span class="cx-count">1</span> ticket<' in html
    created = f"{timezone.localtime(ticket.created_at):%Y-%m-%d %H:%M}"
    assert f'<td class="field-created_at nowrap">{created}</td>' in html


# Also on PostgreSQL, where the session, the user, the count and the page are prepared.
@pytest.mark.postgres
def test_queries_do_not_grow_with_the_tickets(agent_client: Client, agent: Any) -> None:
    def count() -> tuple[int, Any]:
        ContentType.objects.clear_cache()
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            page = agent_client.get(TRIAGE)
        assert page.status_code == 200
        return len(ctx), page

    TicketFactory.create_batch(3, assignee=agent)
    few, page = count()
    assert len(_ids(page)) == 3
    Ticket.objects.bulk_create(
        Ticket(customer=CustomerFactory(), subject=f"Row {i}", priority=2, status="new")
        for i in range(60)
    )
    ResponseFactory.create_batch(2)
    many, page = count()
    assert len(_ids(page)) == 50

    assert few == many
    # 1 session, 2 user, 3 the MFA group check, 4-5 the agent's permissions (own and groups'),
    # 6 staff users for the assignee filter, 7 touchpoints for the touchpoint filter (6-7
    # cached for a minute), 8 the capped COUNT, 9 the page with customer, answer, assignee
    # and touchpoint joined.
    assert many == 9
    # Warm caches: neither the filter lists nor the MFA answer are read again (1, 2, 4, 5, 8, 9).
    with CaptureQueriesContext(connection) as ctx:
        agent_client.get(TRIAGE)
    assert len(ctx) == 6


@pytest.mark.postgres
def test_a_count_past_the_cap_is_shown_as_at_least(
    agent_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue counts up to 1,000 (the admin changelist up to 10,000).
    assert QueuePaginator.cap == 1_000 < CappedCountPaginator.cap
    monkeypatch.setattr(QueuePaginator, "cap", 5)
    TicketFactory.create_batch(5)
    exact = agent_client.get(TRIAGE).content.decode()
    TicketFactory.create_batch(2)

    page = agent_client.get(TRIAGE).content.decode()

    assert '<span class="cx-count">5</span> tickets' in exact
    assert 'class="cx-count cx-count--capped"' in page
    assert ">5+</span>" in page


def test_pages_link_to_each_other_keeping_the_filters(agent_client: Client) -> None:
    Ticket.objects.bulk_create(
        Ticket(customer=CustomerFactory(), subject=f"Row {i}", priority=2, status="open")
        for i in range(55)
    )

    first = agent_client.get(TRIAGE, {"priority__exact": "2"})
    second = agent_client.get(TRIAGE, {"priority__exact": "2", "p": "2"})

    assert 'href="?priority__exact=2&amp;p=2" rel="next"' in first.content.decode()
    assert len(_ids(second)) == 5
    assert not set(_ids(first)) & set(_ids(second))
    assert f'href="{CHANGELIST}?priority__exact=2"' in second.content.decode()
    # A page past the end shows the last one.
    assert _ids(agent_client.get(TRIAGE, {"priority__exact": "2", "p": "99"})) == _ids(second)


def test_bulk_action_runs_the_changelists_action_and_comes_back(
    agent_client: Client, agent: Any
) -> None:
    tickets = TicketFactory.create_batch(2)
    TicketFactory()  # not picked
    data = {"action": "assign_to_me", "_selected_action": [t.pk for t in tickets], "index": 0}

    reply = agent_client.post(f"{TRIAGE}?queue=open", data)

    assert reply.status_code == 302 and reply["Location"] == f"{TRIAGE}?queue=open"
    events = TicketEvent.objects.filter(action="assignee").values_list("ticket_id", "to_value")
    assert sorted(events) == [(t.pk, "ann") for t in tickets]
    page = agent_client.get(reply["Location"])
    assert '<li class="success">Assigned to ann: 2 ticket(s).</li>' in page.content.decode()


def test_bulk_action_second_step_posts_back_here(agent_client: Client) -> None:
    tickets = TicketFactory.create_batch(2)
    data = {"action": "set_priority", "_selected_action": [t.pk for t in tickets], "index": 0}

    page = agent_client.post(TRIAGE, data)
    assert page.templates[0].name == "admin/feedback/ticket/bulk_form.html"
    reply = agent_client.post(TRIAGE, {**data, "apply": "yes", "priority": "4", "index": ""})

    assert reply.status_code == 302
    assert set(Ticket.objects.values_list("priority", flat=True)) == {4}


def test_no_ticket_picked_is_a_message_not_a_change(agent_client: Client) -> None:
    TicketFactory()

    reply = agent_client.post(TRIAGE, {"action": "assign_to_me", "index": 0}, follow=True)

    assert reply.redirect_chain == [(TRIAGE, 302)]
    assert '<li class="warning">Items must be selected' in reply.content.decode()
    assert not TicketEvent.objects.exists()


def test_a_viewer_sees_the_queue_without_ticket_actions_and_cannot_run_them() -> None:
    viewer = _staff("view_ticket")
    client = Client()
    client.force_login(viewer)
    ticket = TicketFactory()

    page = client.get(TRIAGE)
    assert page.status_code == 200 and _ids(page) == [ticket.pk]
    html = page.content.decode()
    # The changelist's choice: the site-wide CSV export, none of the actions that change tickets.
    assert 'value="export_csv"' in html and 'value="assign_to_me"' not in html
    client.post(TRIAGE, {"action": "assign_to_me", "_selected_action": [ticket.pk], "index": 0})
    assert not TicketEvent.objects.exists()


def test_staff_without_ticket_permission_is_refused_and_others_sent_to_sign_in() -> None:
    client = Client()
    client.force_login(_staff())
    assert client.get(TRIAGE).status_code == 403

    anonymous = Client().get(TRIAGE)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    customer_account = UserFactory(password=None, is_staff=False)
    client.force_login(customer_account)
    assert client.get(TRIAGE).status_code == 302


def test_the_changelist_and_the_admin_index_link_to_the_queue(agent_client: Client) -> None:
    changelist = agent_client.get(CHANGELIST, {"assignee": "me"}).content.decode()
    assert f'href="{TRIAGE}?assignee=me"' in changelist
    assert f'href="{TRIAGE}"' in agent_client.get(reverse("admin:index")).content.decode()


def test_names_come_from_the_filter_cache_or_one_query_for_the_others(
    agent_client: Client,
) -> None:
    gone = UserFactory(password=None, username="left-last-year", is_active=False)
    TicketFactory(assignee=gone, touchpoint=TouchpointFactory(name="Parcel locker"))
    agent_client.get(TRIAGE)  # fills the filter lists' cache
    renamed = TouchpointFactory(name="Shop floor")
    TicketFactory(assignee=None, touchpoint=renamed)

    with CaptureQueriesContext(connection) as ctx:
        html = agent_client.get(TRIAGE).content.decode()

    # Not in the active-staff list: read by id. Made after the cache was filled: read by id.
    assert ">left-last-year<" in html and ">Shop floor<" in html and ">Parcel locker<" in html
    by_id = [
        q["sql"]
        for q in ctx.captured_queries
        if '"auth_user"."id" IN (' in q["sql"] or '"touchpoints_touchpoint"."id" IN (' in q["sql"]
    ]
    assert len(by_id) == 2, by_id


def test_messages_are_escaped_unless_marked_safe(agent_client: Client) -> None:
    request = HttpRequest()
    storage = CookieStorage(request)
    storage.add(constants.INFO, "<b>plain</b>")
    storage.add(constants.SUCCESS, format_html('<a href="/x/">{}</a>', "linked"))
    response = agent_client.get(TRIAGE)  # any response to carry the cookie
    storage.update(response)
    agent_client.cookies.update(response.cookies)

    html = agent_client.get(TRIAGE).content.decode()

    assert '<li class="info">&lt;b&gt;plain&lt;/b&gt;</li>' in html
    assert '<li class="success"><a href="/x/">linked</a></li>' in html
