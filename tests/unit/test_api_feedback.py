"""/api/v1/surveys/, invitations/, responses/, tickets/ (+ messages and actions), root-causes/."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from cxcrm.models import WebhookDelivery
from cxcrm.webhooks.services import webhook_endpoint_create
from feedback.surveys.models import OutboundEmail, Response
from feedback.surveys.services.sending import outbound_email_send
from feedback.tickets.models import MessageDirection, Ticket, TicketSource, TicketStatus
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import (
    CAN_READ,
    CAN_WRITE,
    DENIED,
    PERSONAS,
    count_get,
    rows,
)
from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    TicketMessageFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- Reads: personas and query counts ------------------------------------------------------------


def _survey() -> Any:
    survey = SurveyFactory()
    survey.trigger_touchpoints.add(TouchpointFactory(), TouchpointFactory())
    return survey


def _response() -> Any:
    response = ResponseFactory(score=3)
    TicketFactory(response=response, customer=response.customer)
    return response


LISTS = {
    # 1 the key, 2 COUNT(*), 3 the page, 4 the trigger touchpoints of the page (prefetch).
    "/api/v1/surveys/": (_survey, 4),
    # 1 the key, 2 the page (cursor pagination: no COUNT; token deferred).
    "/api/v1/invitations/": (InvitationFactory, 2),
    # 1 the key, 2 the page joined with each answer's ticket.
    "/api/v1/responses/": (_response, 2),
    # 1 the key, 2 the page joined with the assignee.
    "/api/v1/tickets/": (lambda: TicketFactory(assignee=UserFactory(password=None)), 2),
    # 1 the key, 2 COUNT(*), 3 the page.
    "/api/v1/root-causes/": (RootCauseFactory, 3),
}


@pytest.mark.parametrize("url", list(LISTS))
def test_list_query_count_does_not_grow(read_client: Any, url: str) -> None:
    build, expected = LISTS[url]
    for _ in range(2):
        build()
    few, _ = count_get(read_client, url)
    for _ in range(18):
        build()
    many, reply = count_get(read_client, url)

    assert len(rows(reply)) == 20
    assert few == many == expected


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url", list(LISTS))
def test_who_may_read(persona_client: Any, persona: str, url: str) -> None:
    build, _ = LISTS[url]
    obj = build()
    client = persona_client(persona)

    listed = client.get(url)
    detail = client.get(f"{url}{obj.pk}/")

    expected = 200 if CAN_READ[persona] else DENIED[persona]
    assert (listed.status_code, detail.status_code) == (expected, expected)


def test_invitations_never_show_the_token(read_client: Any) -> None:
    invitation = InvitationFactory()

    reply = read_client.get(f"/api/v1/invitations/{invitation.pk}/")

    assert invitation.token not in reply.content.decode()


def test_response_and_ticket_filters(read_client: Any) -> None:
    unhappy = ResponseFactory(score=2, comment="Late")
    ResponseFactory(score=10)
    TicketFactory(response=unhappy, customer=unhappy.customer, status=TicketStatus.OPEN)
    TicketFactory(status=TicketStatus.NEW, due_at=timezone.now() - timezone.timedelta(hours=1))

    def count(url: str, **params: Any) -> int:
        return len(rows(read_client.get(url, params)))

    assert count("/api/v1/responses/", category="detractor") == 1
    assert count("/api/v1/responses/", score_min=9) == 1
    assert count("/api/v1/responses/", has_comment="true") == 1
    assert count("/api/v1/tickets/", status="open") == 1
    assert count("/api/v1/tickets/", overdue="true") == 1
    assert count("/api/v1/tickets/", open="true") == 2
    assert count("/api/v1/tickets/", ordering="-created_at") == 2


def test_a_listed_ticket_names_its_relations_by_id_and_dates_in_the_site_zone(
    read_client: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    ticket = TicketFactory(assignee=UserFactory(username="ana", password=None))

    (row,) = rows(read_client.get("/api/v1/tickets/"))

    assert row["customer"] == ticket.customer_id
    assert row["touchpoint"] == ticket.touchpoint_id
    assert row["response"] is None and row["root_cause"] is None
    assert row["assignee"] == "ana"
    shown = timezone.datetime.fromisoformat(row["created_at"])
    assert shown == ticket.created_at
    assert (
        shown.utcoffset()
        == ticket.created_at.astimezone(timezone.get_default_timezone()).utcoffset()
    )


# --- Responses captured elsewhere --------------------------------------------------------------


def _external_answer(**extra: Any) -> dict[str, Any]:
    return {
        "survey": SurveyFactory().pk,
        "customer_external_id": "kiosk-1",
        "touchpoint": "store",
        "score": 2,
        "comment": "Queue too long",
        "submitted_at": "2025-03-01T10:00:00Z",
        **extra,
    }


@pytest.fixture
def kiosk(db: Any) -> None:
    CustomerFactory(external_id="kiosk-1")
    TouchpointFactory(slug="store")


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_record_an_answer(persona_client: Any, persona: str, kiosk: None) -> None:
    reply = persona_client(persona).post("/api/v1/responses/", _external_answer(), format="json")

    assert reply.status_code == (201 if CAN_WRITE[persona] else DENIED[persona])


def test_an_answer_from_a_kiosk_is_scored_and_closes_the_loop(
    write_client: Any, kiosk: None, django_capture_on_commit_callbacks: Any
) -> None:
    webhook_endpoint_create(url="https://hooks.example.com/cx", events=["response.created"])
    with django_capture_on_commit_callbacks() as callbacks:
        reply = write_client.post("/api/v1/responses/", _external_answer(), format="json")

    assert reply.status_code == 201, reply.json()
    body = reply.json()
    assert (body["category"], body["channel"], body["invitation"]) == ("detractor", "api", None)
    # After commit: the ticket sync, the webhook delivery, the refresh of the answer's day
    # in the reporting rollups and the comment's enrichment (insights) are enqueued.
    assert len(callbacks) == 4
    assert WebhookDelivery.objects.get().event == "response.created"


@pytest.mark.parametrize(
    "change",
    [{"score": 11}, {"score": "ten"}, {"touchpoint": "nowhere"}, {"survey": 2**40}, {"survey": -1}],
)
def test_a_bad_answer_is_400(write_client: Any, kiosk: None, change: dict[str, Any]) -> None:
    reply = write_client.post("/api/v1/responses/", _external_answer(**change), format="json")

    assert reply.status_code == 400
    assert not Response.objects.exists()


# --- Tickets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_open_a_ticket(persona_client: Any, persona: str) -> None:
    CustomerFactory(external_id="c-1")
    reply = persona_client(persona).post(
        "/api/v1/tickets/",
        {"customer_external_id": "c-1", "subject": "Refund asked on the phone"},
        format="json",
    )

    assert reply.status_code == (201 if CAN_WRITE[persona] else DENIED[persona])
    if CAN_WRITE[persona]:
        expected = TicketSource.STAFF if persona == "staff" else TicketSource.API
        assert Ticket.objects.get().source == expected


def test_open_update_assign_resolve_reopen(write_client: Any) -> None:
    customer = CustomerFactory(external_id="c-1")
    agent = UserFactory(username="ann")
    cause = RootCauseFactory()

    opened = write_client.post(
        "/api/v1/tickets/",
        {"customer": customer.pk, "subject": "Broken", "body": "It broke.", "priority": 3},
        format="json",
    )
    ticket_url = f"/api/v1/tickets/{opened.json()['id']}/"
    patched = write_client.patch(ticket_url, {"status": "open", "priority": 4}, format="json")
    assigned = write_client.post(f"{ticket_url}assign/", {"assignee": "ann"}, format="json")
    unresolvable = write_client.patch(ticket_url, {"status": "resolved"}, format="json")
    no_cause = write_client.post(f"{ticket_url}resolve/", {}, format="json")
    resolved = write_client.post(
        f"{ticket_url}resolve/",
        {"root_cause": cause.pk, "resolution": "Sent a new one"},
        format="json",
    )
    twice = write_client.post(f"{ticket_url}resolve/", {"root_cause": cause.pk}, format="json")
    reopened = write_client.post(f"{ticket_url}reopen/", {"note": "Broke again"}, format="json")

    assert opened.status_code == 201
    assert opened.json()["status"] == "new"
    assert (patched.json()["status"], patched.json()["priority"]) == ("open", 4)
    assert assigned.json()["assignee"] == agent.username
    assert unresolvable.status_code == 400
    assert no_cause.status_code == 400
    assert resolved.json()["status"] == "resolved"
    assert twice.status_code == 400
    assert reopened.json()["status"] == "open"
    ticket = Ticket.objects.get()
    assert ticket.messages.get().body == "It broke."
    actions = list(ticket.events.values_list("action", flat=True))
    assert actions.count("status") == 3


def test_a_read_key_cannot_act_on_a_ticket(read_client: Any) -> None:
    ticket = TicketFactory()
    url = f"/api/v1/tickets/{ticket.pk}/"

    assert read_client.patch(url, {"priority": 4}, format="json").status_code == 403
    assert read_client.post(f"{url}reopen/", {}, format="json").status_code == 403
    assert read_client.post(f"{url}messages/", {"kind": "note", "body": "x"}).status_code == 403


def test_messages_sub_resource(write_client: Any) -> None:
    ticket = TicketFactory(customer=CustomerFactory(email="c@example.com"))
    TicketMessageFactory(ticket=ticket)
    url = f"/api/v1/tickets/{ticket.pk}/messages/"

    note = write_client.post(url, {"kind": "note", "body": "Called, no answer."}, format="json")
    reply = write_client.post(url, {"kind": "reply", "body": "Sorry about that."}, format="json")
    empty = write_client.post(url, {"kind": "note", "body": ""}, format="json")
    listed = write_client.get(url)

    assert (note.status_code, reply.status_code, empty.status_code) == (201, 201, 400)
    assert [m["direction"] for m in rows(listed)] == [
        MessageDirection.INBOUND,
        MessageDirection.NOTE,
        MessageDirection.OUTBOUND,
    ]
    email = OutboundEmail.objects.get(ticket=ticket, to_email="c@example.com")
    ticket.refresh_from_db()
    assert ticket.first_contact_at is None  # queued: contact once the server accepts it
    outbound_email_send(email_id=email.pk)
    ticket.refresh_from_db()
    assert ticket.first_contact_at is not None


def test_messages_query_count_does_not_grow(read_client: Any) -> None:
    ticket = TicketFactory()
    url = f"/api/v1/tickets/{ticket.pk}/messages/"
    for _ in range(2):
        TicketMessageFactory(ticket=ticket, author=UserFactory(password=None))
    few, _ = count_get(read_client, url)
    for _ in range(18):
        TicketMessageFactory(ticket=ticket, author=UserFactory(password=None))
    many, reply = count_get(read_client, url)

    assert len(rows(reply)) == 20
    # 1 the key, 2 the ticket, 3 COUNT(*) of its messages, 4 the page joined with authors.
    assert few == many == 4


def test_unknown_assignee_and_out_of_range_ids(write_client: Any) -> None:
    ticket = TicketFactory()

    assert (
        write_client.post(
            f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": "nobody"}, format="json"
        ).status_code
        == 400
    )
    assert write_client.get("/api/v1/tickets/99999999999999999/").status_code == 404
    assert write_client.get("/api/v1/tickets/999999999999999999999999/").status_code == 404
    assert write_client.get("/api/v1/tickets/abc/").status_code == 404
    assert (
        write_client.get("/api/v1/tickets/", {"customer": "99999999999999999999"}).status_code
        == 400
    )
