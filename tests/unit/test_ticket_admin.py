"""The triage queue and the ticket page in the admin: constant query counts, the queue's
filters, search and order, the page's action endpoints (each through its service, so every
change writes a TicketEvent), bulk actions, and the audit trail of staff views and changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import AuditEntry
from feedback.surveys.models import EmailKind, EmailStatus, InvitationPurpose, OutboundEmail
from feedback.surveys.services.sending import outbound_email_send
from feedback.tickets.models import MessageDirection, Ticket, TicketEvent, TicketStatus
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketEventFactory,
    TicketFactory,
    TicketMessageFactory,
    TouchpointFactory,
    UserFactory,
)
from tests.smtp import SmtpSink, smtp_settings
from touchpoints.models import JourneyStage

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:feedback_ticket_changelist")


def _page_url(ticket: Ticket) -> str:
    return reverse("admin:feedback_ticket_change", args=[ticket.pk])


def _action_url(ticket: Ticket, action: str) -> str:
    return reverse(f"admin:feedback_ticket_{action}", args=[ticket.pk])


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


def _count_queries(
    client: Client, url: str, params: dict[str, Any] | None = None
) -> tuple[int, Any]:
    # Cold caches, as in test_admin.py: the content type of the history link and the sign-in
    # middleware's "needs no MFA" answer are cached per process.
    ContentType.objects.clear_cache()
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url, params or {})
    assert page.status_code == 200, page.status_code
    return len(ctx), page


def _found(page: Any) -> list[Ticket]:
    return list(page.context["cl"].result_list)


def _messages(page: Any) -> list[str]:
    return [str(m) for m in page.context["messages"]]


# --- Query counts -------------------------------------------------------------------------------


def _queue_rows(count: int) -> None:
    """Open tickets with every column's relation set: a customer, an assignee, a touchpoint and
    (on the first page) a survey answer. Built in bulk: 500 factory tickets would be slow."""
    customers = CustomerFactory.create_batch(3)
    touchpoints = TouchpointFactory.create_batch(3)
    people = [UserFactory(password=None) for _ in range(3)]
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(
            customer=customers[i % 3],
            touchpoint=touchpoints[i % 3],
            assignee=people[i % 3],
            subject=f"Queue row {i}",
            status=[TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING][i % 3],
            priority=2,
            due_at=now + timedelta(hours=i - 5),
        )
        for i in range(count - 5)
    )
    for _ in range(5):
        response = ResponseFactory(score=1)
        TicketFactory(
            response=response,
            customer=response.customer,
            touchpoint=response.touchpoint,
            assignee=people[0],
            priority=4,
            # The most overdue: the queue's first page shows them.
            due_at=now - timedelta(hours=10),
        )


def test_queue_runs_the_same_queries_for_10_and_500_tickets(agent_client: Client) -> None:
    _queue_rows(10)
    few, page = _count_queries(agent_client, QUEUE)
    assert len(_found(page)) == 10
    _queue_rows(490)
    many, page = _count_queries(agent_client, QUEUE)
    assert len(_found(page)) == 50  # list_per_page
    assert b"cx-score--bad" in page.content

    assert few == many
    # 1 session, 2 user, 3 the MFA group check, 4-5 the agent's permissions (own and groups';
    # a superuser skips these), 6 staff users for the assignee filter, 7 touchpoints for the
    # touchpoint filter, 8 the capped COUNT of the open tickets (LIMIT 1,001), 9 the page's
    # columns only, joined with customer, response, assignee and touchpoint.
    assert many == 9
    # Warm, as staff work it: the MFA answer (3) and the filters' staff users and touchpoints
    # (6, 7) come from the cache.
    with CaptureQueriesContext(connection) as ctx:
        agent_client.get(QUEUE)
    assert len(ctx) == 6, [q["sql"][:80] for q in ctx.captured_queries]


def test_queue_filter_choices_list_staff_and_touchpoints(agent_client: Client) -> None:
    TouchpointFactory(name="Checkout web")
    UserFactory(password=None, username="zoe", is_staff=True)

    html = agent_client.get(QUEUE).content.decode()

    assert ">Checkout web</a>" in html and ">zoe</a>" in html


def _busy_ticket(items: int) -> Ticket:
    """A ticket whose page has `items` messages, events and rows of each timeline source."""
    response = ResponseFactory(score=2, comment="The parcel arrived wet.")
    customer = response.customer
    ticket = TicketFactory(
        response=response,
        customer=customer,
        touchpoint=response.touchpoint,
        assignee=UserFactory(password=None),
    )
    for i in range(items):
        author = UserFactory(password=None)
        message = TicketMessageFactory(
            ticket=ticket,
            author=author,
            direction=MessageDirection.OUTBOUND,
            message_id=f"<m{ticket.pk}-{i}@cx>",
        )
        OutboundEmail.objects.create(
            to_email=customer.email,
            subject="Re",
            kind=EmailKind.TICKET_REPLY,
            status="sent",
            message_id=message.message_id,
            ticket=ticket,
        )
        TicketEventFactory(ticket=ticket, actor=author)
        InvitationFactory(interaction=InteractionFactory(customer=customer))
        TicketFactory(customer=customer)
    for _ in range(items - 1):
        ResponseFactory(
            invitation=InvitationFactory(interaction=InteractionFactory(customer=customer))
        )
    return ticket


def test_ticket_page_runs_the_same_queries_for_2_and_40_items(agent_client: Client) -> None:
    few, _ = _count_queries(agent_client, _page_url(_busy_ticket(2)))
    many, page = _count_queries(agent_client, _page_url(_busy_ticket(40)))
    assert page.content.count(b"The parcel arrived late.") == 40
    assert len(page.context["timeline"]) == 50  # capped

    assert few == many
    # 1 session, 2 user, 3 the MFA group check, 4-5 the agent's permissions (own and groups'),
    # 6 the audit entry (viewed), 7 the ticket joined with customer, assignee, touchpoint,
    # response, survey, its interaction and touchpoint, and root cause; the page's context
    # (ticket_page_context): 8 messages joined with their authors, 9 delivery statuses of the
    # replies, 10 events joined with their actors, 11 interactions joined with touchpoints,
    # 12 invitations joined with surveys, 13 answers joined with touchpoints, 14 the
    # customer's tickets; the workspace: 15 the next ticket in the queue, 16 saved replies
    # (picker), 17 the comment's insight (the insights panel: none here, so no more), 18 staff
    # users (work panel), 19 active root causes (resolve form).
    assert many == 19


def test_ticket_page_shows_the_answer_thread_timeline_and_forms(agent_client: Client) -> None:
    ticket = _busy_ticket(2)
    TicketMessageFactory(ticket=ticket, direction=MessageDirection.NOTE, body="Call on Monday.")

    page = agent_client.get(_page_url(ticket))

    html = page.content.decode()
    assert "The parcel arrived wet." in html  # the answer's comment
    assert "Call on Monday." in html
    assert 'class="cx-delivery cx-delivery--sent"' in html
    for action in ("reply", "note", "work", "contact", "resolve"):
        assert f'action="{_action_url(ticket, action)}"' in html
    assert 'action="' + _action_url(ticket, "reopen") + '"' not in html  # open: resolve, not reopen
    kinds = {item.kind for item in page.context["timeline"]}
    assert kinds == {"interaction", "invitation", "response", "ticket"}
    assert "cxcrm/admin.css" in html
    assert "<script>" not in html.replace("<script src=", "")  # CSP: no inline scripts


def test_a_view_only_user_sees_the_page_without_action_forms() -> None:
    viewer = _staff("view_ticket")
    client = Client()
    client.force_login(viewer)
    ticket = TicketFactory()

    page = client.get(_page_url(ticket))

    assert page.status_code == 200
    assert _action_url(ticket, "reply") not in page.content.decode()


# --- Action endpoints ---------------------------------------------------------------------------


def _resolved_ticket() -> Ticket:
    return TicketFactory(
        status=TicketStatus.RESOLVED, root_cause=RootCauseFactory(), resolved_at=timezone.now()
    )


def _answer_ticket() -> Ticket:
    response = ResponseFactory(score=2)
    return TicketFactory(
        response=response, customer=response.customer, touchpoint=response.touchpoint
    )


# action: (ticket builder, good data, what the service did, refused data)
ACTIONS: dict[
    str, tuple[Callable[[], Ticket], Callable[[], dict[str, Any]], Any, dict[str, Any]]
] = {
    "reply": (
        TicketFactory,
        lambda: {"body": "We are sorry; a new parcel is on its way."},
        # Queued, and not contact until the server accepts it (test_reply_counts_once_accepted).
        lambda t: (
            t.emails.get(kind=EmailKind.TICKET_REPLY).status == "queued"
            and t.messages.get().direction == MessageDirection.OUTBOUND
            and t.first_contact_at is None
        ),
        {"body": "   "},
    ),
    "note": (
        TicketFactory,
        lambda: {"body": "Customer is a regular."},
        lambda t: t.messages.get().direction == MessageDirection.NOTE,
        {"body": ""},
    ),
    "work": (
        TicketFactory,
        lambda: {
            "assignee": UserFactory(username="bob", password=None).pk,
            "status": TicketStatus.OPEN,
            "priority": "4",
        },
        lambda t: (t.assignee.username, t.status, t.priority) == ("bob", TicketStatus.OPEN, 4),
        # Resolving is its own step: the work panel's status list does not offer it.
        {"status": TicketStatus.RESOLVED, "priority": "4"},
    ),
    "contact": (
        TicketFactory,
        lambda: {"note": "Phoned, she accepted a voucher."},
        lambda t: t.first_contact_at is not None and t.messages.get().body.startswith("Phoned"),
        {"note": "x" * 20001},
    ),
    "resolve": (
        _answer_ticket,
        lambda: {
            "root_cause": RootCauseFactory(name="Courier").pk,
            "resolution": "Refunded the delivery.",
            "send_followup": "on",
        },
        lambda t: (
            t.status == TicketStatus.RESOLVED
            and t.root_cause.name == "Courier"
            and t.followup_invitations.get().purpose == InvitationPurpose.FOLLOWUP
        ),
        {"root_cause": "", "resolution": "No root cause given."},
    ),
    "reopen": (
        _resolved_ticket,
        lambda: {"note": "The customer wrote again."},
        lambda t: t.status == TicketStatus.OPEN,
        {"note": "x" * 1001},
    ),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_happy_path_calls_the_service_and_redirects_back(
    agent_client: Client, agent: Any, action: str
) -> None:
    build, data, done, _ = ACTIONS[action]
    ticket = build()
    events_before = ticket.events.count()

    page = agent_client.post(_action_url(ticket, action), data(), follow=True)

    assert page.redirect_chain == [(_page_url(ticket), 302)]
    assert [m.level_tag for m in page.context["messages"]] == ["success"], _messages(page)
    ticket.refresh_from_db()
    assert done(ticket)
    # A note changes nothing; a reply's contact event waits for its email to be accepted
    # (test_a_reply_retried_after_451_is_contact_at_its_acceptance).
    if action not in ("note", "reply"):
        # Every change of status, priority, assignee or contact is an event by the agent.
        assert ticket.events.count() > events_before
        assert ticket.events.order_by("-id").first().actor == agent
    assert AuditEntry.objects.filter(
        object_type="ticket", object_id=str(ticket.pk), action="changed", summary=action
    ).exists()


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_refused_input_is_a_message_and_changes_nothing(
    agent_client: Client, action: str
) -> None:
    build, _, _, bad = ACTIONS[action]
    ticket = build()
    before = Ticket.objects.filter(pk=ticket.pk).values().get()
    events = ticket.events.count()

    page = agent_client.post(_action_url(ticket, action), bad, follow=True)

    assert page.status_code == 200
    assert page.redirect_chain == [(_page_url(ticket), 302)]
    assert [m.level_tag for m in page.context["messages"]] == ["error"]
    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before
    assert ticket.events.count() == events
    assert not ticket.messages.exists() or action == "reopen"
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_without_csrf_token_is_forbidden(agent: Any, action: str) -> None:
    build, data, _, _ = ACTIONS[action]
    ticket = build()
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    assert client.post(_action_url(ticket, action), data()).status_code == 403
    assert not ticket.events.exists() or action == "reopen"


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_without_change_permission_is_forbidden(action: str) -> None:
    build, data, _, _ = ACTIONS[action]
    ticket = build()
    client = Client()
    client.force_login(_staff("view_ticket"))
    before = Ticket.objects.filter(pk=ticket.pk).values().get()

    assert client.post(_action_url(ticket, action), data()).status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before


def test_action_endpoints_accept_post_only_and_unknown_tickets_404(agent_client: Client) -> None:
    ticket = TicketFactory()
    assert agent_client.get(_action_url(ticket, "note")).status_code == 405
    missing = reverse("admin:feedback_ticket_note", args=[999999])
    assert agent_client.post(missing, {"body": "x"}).status_code == 404


def test_reply_to_a_customer_without_email_is_refused_with_a_message(
    agent_client: Client,
) -> None:
    ticket = TicketFactory(customer=CustomerFactory(email=""))

    page = agent_client.post(_action_url(ticket, "reply"), {"body": "Hello"}, follow=True)

    assert _messages(page) == ["The customer has no email address to reply to."]
    assert not ticket.messages.exists()


def test_resolve_with_an_inactive_root_cause_is_refused(agent_client: Client) -> None:
    ticket = TicketFactory()
    retired = RootCauseFactory(name="Old reason", active=False)

    page = agent_client.post(
        _action_url(ticket, "resolve"), {"root_cause": retired.pk}, follow=True
    )

    assert "Root cause:" in _messages(page)[0]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_viewing_the_page_is_audited(agent_client: Client, agent: Any) -> None:
    ticket = TicketFactory()

    agent_client.get(_page_url(ticket))

    entry = AuditEntry.objects.get(object_type="ticket", object_id=str(ticket.pk))
    assert (entry.action, entry.actor) == ("viewed", agent)


# --- The queue: order, SLA, filters, search ------------------------------------------------------


def test_queue_leads_with_uncontacted_tickets_by_deadline_then_contacted_by_priority(
    agent_client: Client,
) -> None:
    now = timezone.now()
    contacted = {"first_contact_at": now - timedelta(hours=1)}
    # Contacted tickets: their SLA is met; the more important first, then the nearer deadline.
    urgent_contacted = TicketFactory(priority=4, due_at=now - timedelta(hours=5), **contacted)
    normal_contacted = TicketFactory(priority=2, due_at=now - timedelta(hours=9), **contacted)
    # Not contacted yet: the nearest (or most passed) deadline first, whatever the priority.
    late_normal = TicketFactory(priority=2, due_at=now + timedelta(hours=30))
    soon_normal = TicketFactory(priority=2, due_at=now + timedelta(hours=3, minutes=30))
    overdue_low = TicketFactory(priority=1, due_at=now - timedelta(hours=1))
    urgent_later = TicketFactory(priority=4, due_at=now + timedelta(hours=40))
    no_deadline = TicketFactory(priority=4, due_at=None)
    _resolved_ticket()

    page = agent_client.get(QUEUE)

    assert _found(page) == [
        overdue_low,
        soon_normal,
        late_normal,
        urgent_later,
        no_deadline,
        urgent_contacted,
        normal_contacted,
    ]
    html = page.content.decode()
    assert '<span class="cx-sla cx-sla--soon" title="due' in html
    assert ">due in 3 h<" in html
    # The list of all tickets keeps that order after the open-first term.
    assert _found(agent_client.get(QUEUE, {"queue": "all"}))[:2] == [overdue_low, soon_normal]


def test_delete_is_the_last_bulk_action_and_only_for_those_who_may_delete(
    agent_client: Client,
) -> None:
    TicketFactory()

    def choices(client: Client) -> list[str]:
        form = client.get(QUEUE).context["action_form"]
        return [value for value, _label in form.fields["action"].choices if value]

    # An agent may not delete tickets (cxcrm.roles): no delete action at all.
    assert "delete_selected" not in choices(agent_client)
    deleter = _staff("view_ticket", "change_ticket", "delete_ticket", username="dee")
    client = Client()
    client.force_login(deleter)
    actions = choices(client)
    assert actions[-1] == "delete_selected"
    assert "assign_to_me" in actions and "export_csv" in actions


def test_overdue_tickets_are_highlighted(agent_client: Client) -> None:
    TicketFactory(due_at=timezone.now() - timedelta(hours=2, minutes=5))

    html = agent_client.get(QUEUE).content.decode()

    assert "cx-sla--overdue" in html
    assert ">overdue by 2 h<" in html


def test_queue_filter_all_and_a_picked_status_show_closed_work(agent_client: Client) -> None:
    open_ticket = TicketFactory()
    resolved = _resolved_ticket()

    assert _found(agent_client.get(QUEUE, {"queue": "all"})) == [open_ticket, resolved]
    assert _found(agent_client.get(QUEUE, {"status__exact": "resolved"})) == [resolved]
    # The queue's choice "open" clears a picked status rather than contradicting it.
    assert _found(agent_client.get(QUEUE, {"queue": "open"})) == [open_ticket]


def test_filter_overdue_is_open_past_due_and_not_contacted(agent_client: Client) -> None:
    past = timezone.now() - timedelta(hours=1)
    breached = TicketFactory(due_at=past)
    TicketFactory(due_at=past, first_contact_at=timezone.now())  # contacted in time enough
    TicketFactory(due_at=timezone.now() + timedelta(hours=1))

    assert _found(agent_client.get(QUEUE, {"queue": "overdue"})) == [breached]


def test_filter_assignee_me_and_unassigned(agent_client: Client, agent: Any) -> None:
    mine = TicketFactory(assignee=agent)
    nobodys = TicketFactory(assignee=None)
    TicketFactory(assignee=UserFactory(password=None))

    assert _found(agent_client.get(QUEUE, {"assignee": "me"})) == [mine]
    assert _found(agent_client.get(QUEUE, {"assignee": "none"})) == [nobodys]


def test_filter_stage_kind_and_touchpoint_id(agent_client: Client) -> None:
    payment = TicketFactory(touchpoint=TouchpointFactory(stage=JourneyStage.PAYMENT))
    csat = ResponseFactory(score=1, invitation__survey=SurveyFactory(kind="csat"))
    csat_ticket = TicketFactory(response=csat, customer=csat.customer, touchpoint=csat.touchpoint)
    TicketFactory()

    assert _found(agent_client.get(QUEUE, {"touchpoint__stage__exact": "payment"})) == [payment]
    assert _found(agent_client.get(QUEUE, {"kind": "csat"})) == [csat_ticket]
    # The journey map links here with the touchpoint's id.
    by_touchpoint = agent_client.get(QUEUE, {"touchpoint__id__exact": payment.touchpoint_id})
    assert _found(by_touchpoint) == [payment]


@pytest.mark.parametrize("term", ["grace@shop.example", "Grace Hopper", "soggy"])
def test_search_by_customer_email_name_and_comment(agent_client: Client, term: str) -> None:
    customer = CustomerFactory(email="grace@shop.example", name="Grace Hopper")
    response = ResponseFactory(
        score=1,
        comment="The box was soggy.",
        invitation=InvitationFactory(interaction=InteractionFactory(customer=customer)),
    )
    wanted = TicketFactory(response=response, customer=customer)
    TicketFactory()

    assert _found(agent_client.get(QUEUE, {"q": term})) == [wanted]


# --- Bulk actions -------------------------------------------------------------------------------


def _bulk(client: Client, action: str, tickets: list[Ticket], **extra: Any) -> Any:
    data = {"action": action, "_selected_action": [t.pk for t in tickets], "index": 0, **extra}
    return client.post(QUEUE, data, follow=True)


def _events(tickets: list[Ticket], action: str) -> list[tuple[int, str, str]]:
    return list(
        TicketEvent.objects.filter(ticket__in=tickets, action=action)
        .order_by("ticket_id")
        .values_list("ticket_id", "to_value", "actor__username")
    )


def test_bulk_assign_to_me(agent_client: Client) -> None:
    tickets = TicketFactory.create_batch(2)

    page = _bulk(agent_client, "assign_to_me", tickets)

    assert _messages(page) == ["Assigned 2 tickets to ann."]
    assert _events(tickets, "assignee") == [(t.pk, "ann", "ann") for t in tickets]


def test_bulk_assign_to_someone_asks_whom_then_assigns(agent_client: Client) -> None:
    tickets = TicketFactory.create_batch(2)
    carol = UserFactory(username="carol", password=None)

    page = _bulk(agent_client, "assign_to", tickets)
    assert page.templates[0].name == "admin/feedback/ticket/bulk_form.html"
    assert not TicketEvent.objects.exists()

    data = {"action": "assign_to", "_selected_action": [t.pk for t in tickets], "apply": "yes"}
    page = agent_client.post(QUEUE, {**data, "assignee": carol.pk}, follow=True)

    assert _events(tickets, "assignee") == [(t.pk, "carol", "ann") for t in tickets]
    # An invalid choice shows the page again instead of assigning.
    page = agent_client.post(QUEUE, {**data, "assignee": "999999"})
    assert page.status_code == 200
    assert page.context["form"].errors


@pytest.mark.parametrize(("action", "status"), [("set_open", "open"), ("set_pending", "pending")])
def test_bulk_set_status(agent_client: Client, action: str, status: str) -> None:
    tickets = TicketFactory.create_batch(2)

    _bulk(agent_client, action, tickets)

    assert _events(tickets, "status") == [(t.pk, status, "ann") for t in tickets]


def test_bulk_set_priority(agent_client: Client) -> None:
    tickets = TicketFactory.create_batch(2)

    _bulk(agent_client, "set_priority", tickets, apply="yes", priority="4")

    assert _events(tickets, "priority") == [(t.pk, "urgent", "ann") for t in tickets]
    assert set(Ticket.objects.values_list("priority", flat=True)) == {4}


def test_bulk_actions_need_change_permission() -> None:
    viewer = _staff("view_ticket")
    client = Client()
    client.force_login(viewer)
    ticket = TicketFactory()

    page = client.get(QUEUE)
    assert "assign_to_me" not in page.content.decode()
    _bulk(client, "assign_to_me", [ticket])
    assert not TicketEvent.objects.exists()


# --- A reply is contact only once its email is accepted -----------------------------------------


def _reply_through_the_page(agent_client: Client, ticket: Ticket) -> OutboundEmail:
    page = agent_client.post(
        _action_url(ticket, "reply"), {"body": "We are so sorry."}, follow=True
    )
    assert "It counts as contact once the mail server accepts it" in " ".join(_messages(page))
    return OutboundEmail.objects.get(ticket=ticket, kind=EmailKind.TICKET_REPLY)


def test_a_reply_the_server_refuses_is_not_contact_and_the_page_says_so(
    agent_client: Client,
) -> None:
    ticket = TicketFactory(customer=CustomerFactory(email="gone@example.com"))
    with SmtpSink() as smtp, override_settings(**smtp_settings(smtp)):
        smtp.refuse(lambda address: True, "550 5.1.1 Mailbox unavailable")
        email = _reply_through_the_page(agent_client, ticket)
        outbound_email_send(email_id=email.pk)

    ticket.refresh_from_db()
    email.refresh_from_db()
    assert email.status == EmailStatus.BOUNCED
    assert ticket.first_contact_at is None and ticket.status == TicketStatus.NEW
    assert not ticket.events.filter(action="contacted").exists()
    html = agent_client.get(_page_url(ticket)).content.decode()
    assert "Not delivered (bounced)" in html
    assert "The mail server answered: 550 5.1.1 Mailbox unavailable" in html


def test_a_reply_retried_after_451_is_contact_at_its_acceptance(
    agent_client: Client, agent: Any
) -> None:
    ticket = TicketFactory()
    with SmtpSink() as smtp, override_settings(**smtp_settings(smtp)):
        smtp.defer_for(3600)
        email = _reply_through_the_page(agent_client, ticket)
        outbound_email_send(email_id=email.pk)
        ticket.refresh_from_db()
        assert ticket.first_contact_at is None
        html = agent_client.get(_page_url(ticket)).content.decode()
        assert "Not delivered yet: retrying" in html and "451 4.3.0" in html

        smtp.defer_for(0)
        accepted_at = timezone.now() + timedelta(minutes=5)
        outbound_email_send(email_id=email.pk, now=accepted_at)
        assert len(smtp.messages) == 1

    ticket.refresh_from_db()
    assert ticket.first_contact_at == accepted_at
    assert ticket.status == TicketStatus.PENDING
    contacted = ticket.events.get(action="contacted")
    assert (contacted.actor, contacted.created_at) == (agent, accepted_at)
    html = agent_client.get(_page_url(ticket)).content.decode()
    assert 'class="cx-delivery cx-delivery--sent">Sent<' in html
