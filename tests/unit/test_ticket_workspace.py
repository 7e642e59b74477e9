"""The ticket workspace (our page at the admin's change URL): its one work endpoint, resolve
and reopen with the previous root cause shown, saved replies (validation, rendering, the
picker's order), the customer's story with browsing folded, and the next ticket in the queue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from feedback.tickets.admin.saved_replies import SavedReplyForm
from feedback.tickets.admin.workspace import event_value
from feedback.tickets.models import SavedReply, Ticket, TicketStatus
from feedback.tickets.saved_replies import (
    placeholder_values,
    saved_replies_for,
    saved_reply_render,
)
from feedback.tickets.selectors import (
    ticket_next_in_queue,
    ticket_queue_ordering,
    tickets_for_staff,
)
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.models import JourneyStage

pytestmark = pytest.mark.django_db


def _staff(*codenames: str, username: str = "ann") -> Any:
    user = UserFactory(username=username, password=None, first_name="Ann", last_name="Lee")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="feedback", codename__in=codenames)
    )
    return user


@pytest.fixture
def agent() -> Any:
    return _staff("view_ticket", "change_ticket")


@pytest.fixture
def client(agent: Any) -> Client:
    client = Client()
    client.force_login(agent)
    return client


def _page(ticket: Ticket) -> str:
    return reverse("admin:feedback_ticket_change", args=[ticket.pk])


def _work(ticket: Ticket) -> str:
    return reverse("admin:feedback_ticket_work", args=[ticket.pk])


def _answer_ticket(**kwargs: Any) -> Ticket:
    interaction = InteractionFactory(
        customer=CustomerFactory(name="Zofia Nowak", language="pl", segment="vip"),
        order_ref="ORD-4711",
        amount=Decimal("129.90"),
        currency="PLN",
    )
    response = ResponseFactory(
        score=2,
        comment="Paczka przyszła mokra.",
        invitation=InvitationFactory(interaction=interaction),
    )
    return TicketFactory(
        response=response,
        customer=response.customer,
        touchpoint=response.touchpoint,
        **kwargs,
    )


# --- The page -----------------------------------------------------------------------------------


def test_the_workspace_replaces_the_model_form(client: Client) -> None:
    ticket = _answer_ticket()

    page = client.get(_page(ticket))

    html = page.content.decode()
    assert page.templates[0].name == "admin/feedback/ticket/workspace.html"
    for gone in ('name="_save"', "_addanother", "/delete/", 'name="due_at"', 'id="nav-sidebar"'):
        assert gone not in html
    # The story: the answer linked to its order, the customer's language by name, segment.
    assert "Paczka przyszła mokra." in html
    assert "ORD-4711" in html and "129.90 PLN" in html
    assert "Polish" in html and "vip" in html
    assert 'dir="auto">Paczka' in html
    # The work panel offers the working statuses only.
    status = page.context["work_form"].fields["status"]
    assert [value for value, _ in status.choices] == ["new", "open", "pending"]
    assert "<script>" not in html.replace("<script src=", "")  # CSP: no inline scripts


def test_a_posted_change_form_is_refused(client: Client) -> None:
    ticket = TicketFactory()
    assert client.post(_page(ticket), {"subject": "Changed"}).status_code == 405
    ticket.refresh_from_db()
    assert ticket.subject != "Changed"


def test_a_view_only_user_sees_it_read_only() -> None:
    viewer = _staff("view_ticket", username="vic")
    client = Client()
    client.force_login(viewer)
    ticket = TicketFactory()

    page = client.get(_page(ticket))

    assert page.status_code == 200
    html = page.content.decode()
    assert _work(ticket) not in html and "cx-reply-form" not in html


def test_consecutive_page_views_fold_into_one_line(client: Client) -> None:
    ticket = _answer_ticket()
    browsing = TouchpointFactory(name="Product page", slug="pp", stage=JourneyStage.ENGAGEMENT)
    start = timezone.now() - timedelta(days=3)
    for minute in range(12):
        InteractionFactory(
            customer=ticket.customer,
            touchpoint=browsing,
            occurred_at=start + timedelta(minutes=minute),
        )

    page = client.get(_page(ticket))

    folded = [entry for entry in page.context["story"] if entry.folded]
    assert len(folded) == 1 and len(folded[0].folded) == 12
    assert "12 page views and visits: Product page" in page.content.decode()


# --- The work endpoint --------------------------------------------------------------------------


def test_work_saves_what_changed_each_with_its_event(client: Client, agent: Any) -> None:
    ticket = TicketFactory(status=TicketStatus.NEW, priority=2, assignee=None)
    bob = UserFactory(username="bob", password=None)

    page = client.post(
        _work(ticket), {"assignee": bob.pk, "status": "new", "priority": "4"}, follow=True
    )

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status, ticket.priority) == (bob, "new", 4)
    assert sorted(ticket.events.values_list("action", flat=True)) == ["assignee", "priority"]
    assert next(str(m) for m in page.context["messages"]).startswith("Saved: New, Urgent")


def test_assign_to_me_changes_only_the_assignee(client: Client, agent: Any) -> None:
    ticket = TicketFactory(status=TicketStatus.PENDING, priority=3, assignee=None)

    client.post(_work(ticket), {"assignee": agent.pk})

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status, ticket.priority) == (agent, "pending", 3)


def test_work_cannot_resolve_or_move_a_resolved_ticket(client: Client) -> None:
    ticket = TicketFactory()
    client.post(_work(ticket), {"status": "closed"})
    resolved = TicketFactory(
        status=TicketStatus.RESOLVED, root_cause=RootCauseFactory(), resolved_at=timezone.now()
    )
    page = client.post(_work(resolved), {"status": "open"}, follow=True)

    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.NEW
    assert Ticket.objects.get(pk=resolved.pk).status == TicketStatus.RESOLVED
    assert any("reopen it first" in str(m) for m in page.context["messages"])


def test_work_with_nothing_changed_writes_no_event(client: Client) -> None:
    ticket = TicketFactory(status=TicketStatus.OPEN, priority=2, assignee=None)
    page = client.post(
        _work(ticket), {"assignee": "", "status": "open", "priority": "2"}, follow=True
    )
    assert not ticket.events.exists()
    assert [str(m) for m in page.context["messages"]] == ["Nothing changed."]


# --- Resolve and reopen -------------------------------------------------------------------------


def test_a_reopened_ticket_shows_its_previous_root_cause(client: Client) -> None:
    ticket = _answer_ticket()
    cause = RootCauseFactory(name="Courier damage")
    resolve = reverse("admin:feedback_ticket_resolve", args=[ticket.pk])
    reopen = reverse("admin:feedback_ticket_reopen", args=[ticket.pk])

    client.post(resolve, {"root_cause": cause.pk, "resolution": "Sent a new parcel."})
    resolved = client.get(_page(ticket)).content.decode()
    client.post(reopen, {"note": "She wrote again."})
    reopened = client.get(_page(ticket))

    assert "Courier damage" in resolved and 'action="' + reopen + '"' in resolved
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.root_cause == cause  # kept
    html = reopened.content.decode()
    # The page writes dates in the language's short format.
    day = date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    assert f"Previous root cause: Courier damage (resolved on {day}, then reopened)." in html
    assert 'action="' + resolve + '"' in html


# --- Saved replies ------------------------------------------------------------------------------


def test_an_unknown_placeholder_is_a_form_error_naming_it() -> None:
    form = SavedReplyForm(
        data={"name": "Sorry", "language": "en", "body": "Hi {customer_name}, {custmer} {order}"}
    )
    assert not form.is_valid()
    assert "{custmer}" in form.errors["body"][0]
    assert "{customer_name}" not in form.errors["body"][0].split(".")[0]


def test_a_valid_saved_reply_is_saved() -> None:
    form = SavedReplyForm(
        data={"name": "Sorry", "language": "pl", "body": "Dzień dobry {customer_name}, {order}."}
    )
    assert form.is_valid(), form.errors
    assert form.save().language == "pl"


def test_rendering_is_plain_substitution() -> None:
    ticket = tickets_for_staff().get(pk=_answer_ticket().pk)
    agent = UserFactory(username="tess", first_name="Tess", last_name="Ray", password=None)
    body = "Hi {customer_name}, order {order} ({ticket}). {{ agent }} {% now 'Y' %} {x} — {agent}"

    text = saved_reply_render(body, placeholder_values(ticket, agent))

    assert text == (
        f"Hi Zofia Nowak, order ORD-4711 (#{ticket.pk}). {{{{ agent }}}} {{% now 'Y' %}} {{x}}"
        " — Tess Ray"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hello {customer_name},\n\nSorry.", "Hello,\n\nSorry."),
        ("Dzień dobry, {customer_name},\nprzepraszamy.", "Dzień dobry,\nprzepraszamy."),
        ("Здравствуйте, {customer_name}!", "Здравствуйте!"),
        ("{customer_name}，您好！", "您好！"),
        ("مرحبًا {customer_name}،", "مرحبًا،"),
        ("Your order {order} is late.", "Your order is late."),
    ],
)
def test_an_unknown_name_or_order_is_left_out_with_its_separator(body: str, expected: str) -> None:
    # No English filler ("there") in a Polish greeting, no ", ," or stray space.
    values = {"customer_name": "", "order": "", "agent": "Tess", "ticket": "#1", "subject": "x"}
    assert saved_reply_render(body, values) == expected


def test_the_picker_lists_the_customers_language_first_and_hides_others_personal(
    agent: Any,
) -> None:
    other = UserFactory(username="olga", password=None)
    SavedReply.objects.create(name="A English", language="en", body="x")
    SavedReply.objects.create(name="B any", language="any", body="x")
    SavedReply.objects.create(name="C Polish", language="pl", body="x")
    SavedReply.objects.create(name="D mine", language="pl", body="x", owner=agent)
    SavedReply.objects.create(name="E Olga's", language="pl", body="x", owner=other)

    names = [r.name for r in saved_replies_for(agent, "pl")]

    assert names == ["C Polish", "D mine", "B any", "A English"]


def test_the_page_passes_rendered_replies_to_its_script(client: Client) -> None:
    ticket = _answer_ticket()
    SavedReply.objects.create(name="Sorry", language="pl", body="Pani {customer_name}: {order}")

    html = client.get(_page(ticket)).content.decode()

    assert '<script id="cx-saved-replies" type="application/json">' in html
    assert "Pani Zofia Nowak: ORD-4711" in html


# --- The next ticket ----------------------------------------------------------------------------


def test_next_ticket_follows_the_queue_order() -> None:
    now = timezone.now()
    TicketFactory(priority=4, due_at=now + timedelta(hours=5))
    TicketFactory(priority=2, due_at=now + timedelta(hours=1))
    TicketFactory(priority=2, due_at=now - timedelta(hours=2))
    TicketFactory(priority=3, due_at=now + timedelta(hours=9), first_contact_at=now)
    done = TicketFactory(
        status=TicketStatus.RESOLVED, root_cause=RootCauseFactory(), resolved_at=now
    )
    queue = list(
        Ticket.objects.open()
        .order_by(*ticket_queue_ordering(only_open=True))
        .values_list("id", flat=True)
    )
    tickets = {t.pk: t for t in Ticket.objects.all()}

    # Each ticket leads to the one after it in the queue, the last to none.
    assert [ticket_next_in_queue(tickets[pk]) for pk in queue] == [*queue[1:], None]
    assert ticket_next_in_queue(done) == queue[0]


@pytest.mark.parametrize(
    ("action", "stored", "shown"),
    [
        ("status", "pending", "Pending customer"),
        ("escalated", "urgent", "Urgent"),
        ("recovered", "True", "yes"),
        ("contacted", "phone call", "phone call"),
        ("assignee", "ann", "ann"),
        ("status", "", ""),
    ],
)
def test_the_history_shows_stored_values_in_words(action: str, stored: str, shown: str) -> None:
    # Events store machine values (feedback.tickets.services); the page says them in words.
    assert event_value(action, stored) == shown
