"""Erasure finds everything: one customer goes through every path that writes about them
(import, purchase, survey email, unhappy answer, ticket with its alerts, escalation, staff
reply, replies by email, follow-up, webhooks, JSON export, the admin's history), is erased,
and then every text, JSON and binary column of every table is searched for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from customers.privacy import customer_erase
from customers.services import customer_unsubscribe
from cxcrm.models import DeliveryStatus, WebhookDelivery
from cxcrm.webhooks.event_types import EVENTS
from cxcrm.webhooks.services import webhook_endpoint_create
from feedback.inbound.models import InboundStatus
from feedback.inbound.services import inbound_email_receive
from feedback.surveys.models import (
    EmailKind,
    Invitation,
    InvitationState,
    OutboundEmail,
    Response,
)
from feedback.surveys.services.dispatch import invitations_dispatch
from feedback.surveys.services.responses import response_record
from feedback.tickets.models import Ticket
from feedback.tickets.services import (
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_sync_for_response,
    tickets_escalate_breached,
)
from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    RootCauseFactory,
    SurveyFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.services import interaction_record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NAME = "Zebulon Quuxworth"
EMAIL = "zeb.quuxworth@example.org"
PHONE = "+44 7700 900461"
COMMENT = "The flambergast parcel arrived crushed and soaking wet"
# Each piece on its own too: an email may wrap a line or quote a part.
NEEDLES = (NAME, "Quuxworth", EMAIL, "zeb.quuxworth", PHONE, "900461", COMMENT, "flambergast")
DOMAIN = "reply.example.com"

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _columns() -> Iterator[tuple[type[models.Model], str]]:
    """Every text, char, JSON and binary column of every installed model (Django's auth, admin
    and sessions included, and the tables behind many-to-many fields)."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                yield model, field.attname


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def personal_data_hits() -> list[str]:
    """``table.column: needle`` for every column holding any of the needles."""
    hits = []
    for model, column in _columns():
        found = set()
        for value in model._default_manager.values_list(column, flat=True).iterator():
            text = _as_text(value).lower()
            found |= {needle for needle in NEEDLES if needle.lower() in text}
        hits += [f"{model._meta.db_table}.{column}: {needle!r}" for needle in sorted(found)]
    return hits


def _raw_email(*, to: str, subject: str, body: str, in_reply_to: str = "") -> bytes:
    headers = [
        f"From: {NAME} <{EMAIL}>",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: <{timezone.now().timestamp()}.{len(body)}@mail.example.org>",
        "Date: Sun, 22 Nov 2026 10:00:00 +0000",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def _import_customer(client: Client) -> Customer:
    url = reverse("admin:customers_customer_import")
    content = (
        f"external_id,email,name,phone,language\ncrm-zeb-77,{EMAIL},{NAME},{PHONE},en\n"
    ).encode()
    preview = client.post(url, {"file": SimpleUploadedFile("c.csv", content, "text/csv")})
    client.post(url, {"token": preview.context["token"]})
    return Customer.objects.get(external_id="crm-zeb-77")


@pytest.fixture
def everything(admin_client: Client, superuser: Any, settings: Any) -> dict[str, Any]:
    """One customer through every path that stores something about them."""
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN
    now = timezone.now()
    agent = UserFactory(username="agent", email="agent@staff.example.com", is_staff=True)
    agent.groups.add(Group.objects.get_or_create(name="Agent")[0])
    manager = UserFactory(username="manager", email="manager@staff.example.com", is_staff=True)
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    webhook_endpoint_create(url="https://hooks.example.com/cx", events=list(EVENTS))

    customer = _import_customer(admin_client)
    # Staff edit them in the admin: Django's history now names them.
    admin_client.post(
        f"/admin/customers/customer/{customer.pk}/change/",
        {
            "external_id": customer.external_id,
            "email": EMAIL,
            "name": NAME,
            "phone": PHONE,
            "language": "en",
            "segment": "vip",
            "tags": "[]",
            "attributes": json.dumps({"notes": f"{NAME} prefers phone: {PHONE}"}),
            "suppression_reason": "",
        },
    )
    touchpoint = TouchpointFactory(slug="delivery")
    survey = SurveyFactory(delay=timedelta(0), acknowledge_customer=True, sla_hours=1)
    survey.trigger_touchpoints.add(touchpoint)
    interaction_record(
        customer=customer,
        touchpoint=touchpoint,
        occurred_at=now - timedelta(minutes=5),
        source="shop",
        external_id="order-77",
        order_ref=f"Order for {NAME}",
        metadata={"ship_to": NAME, "email": EMAIL},
    )
    assert invitations_dispatch().sent == 1
    invitation = Invitation.objects.get(customer=customer)

    response = response_record(
        invitation_id=invitation.pk,
        score=2,
        comment=COMMENT,
        answers={"callback": {"phone": PHONE, "time": "evening"}},
    ).response
    ticket = ticket_sync_for_response(response_id=response.pk).ticket
    assert ticket is not None and ticket.assignee == agent
    assert tickets_escalate_breached(now=now + timedelta(hours=2)) == 1
    ticket_reply(ticket_id=ticket.pk, body=f"Dear {NAME}, we are sorry.", actor=agent)

    reply_to = f"reply+{invitation.token}@{DOMAIN}"
    matched = inbound_email_receive(
        raw=_raw_email(to=reply_to, subject="Re: How did we do?", body=f"{COMMENT}, {NAME}"),
        source="command",
    )
    assert matched.status == InboundStatus.MATCHED_TICKET, matched.note
    unmatched = inbound_email_receive(
        raw=_raw_email(to=f"help@{DOMAIN}", subject=f"From {NAME}", body=f"Call {PHONE}"),
        source="command",
    )
    assert unmatched.status == InboundStatus.UNMATCHED, unmatched.note

    ticket_resolve(
        ticket_id=ticket.pk,
        root_cause=RootCauseFactory(name="Courier"),
        resolution=f"Refunded {NAME}",
        actor=agent,
        send_followup=True,
        now=now,
    )
    settings.CXCRM_FOLLOWUP_DELAY_HOURS = 0
    Invitation.objects.filter(ticket=ticket).update(scheduled_for=now)
    assert invitations_dispatch().sent == 1
    ticket_reopen(ticket_id=ticket.pk, actor=agent, note=f"{NAME} called again on {PHONE}")
    customer_unsubscribe(customer=customer)
    # Staff's history of the ticket and of the survey email (their names include the
    # customer's) as the admin records a change.
    LogEntry.objects.log_actions(
        user_id=superuser.pk,
        queryset=Ticket.objects.filter(pk=ticket.pk),
        action_flag=CHANGE,
        change_message=f"Changed subject for {NAME}",
    )
    LogEntry.objects.log_actions(
        user_id=superuser.pk,
        queryset=Invitation.objects.filter(customer=customer),
        action_flag=CHANGE,
        change_message="[]",
    )
    export = admin_client.post(
        "/admin/customers/customer/",
        {"action": "export_json", "_selected_action": [customer.pk]},
    )
    assert export.status_code == 200 and NAME in export.content.decode()

    kinds = set(OutboundEmail.objects.values_list("kind", flat=True))
    assert {
        EmailKind.SURVEY,
        EmailKind.ALERT,
        EmailKind.ACKNOWLEDGEMENT,
        EmailKind.TICKET_REPLY,
    } <= kinds
    # The recovery follow-up went out as a survey email about the ticket.
    assert OutboundEmail.objects.filter(invitation__ticket=ticket).exists()
    events = set(WebhookDelivery.objects.values_list("event", flat=True))
    # insight.alert is about a touchpoint or topic, never a customer: not in their history.
    assert set(EVENTS) - {"response.updated", "insight.alert"} <= events
    return {"customer": customer, "response": response, "ticket": ticket}


def test_erasure_leaves_the_customer_in_no_column_of_any_table(
    everything: dict[str, Any],
) -> None:
    customer = everything["customer"]
    before = personal_data_hits()
    # The scan does find them, in the places the test means to cover.
    for where in (
        "customers_customer.name",
        "feedback_outboundemail.subject",
        "cxcrm_webhookdelivery.payload",
        "feedback_inboundemail.raw",
        "django_admin_log.object_repr",
    ):
        assert any(hit.startswith(where) for hit in before), (where, before)

    customer_erase(customer_id=customer.pk, actor="test")

    left = personal_data_hits()
    assert not left, "Still there after erasure:\n" + "\n".join(left)
    # The scores stay, anonymous.
    response = Response.objects.get(pk=everything["response"].pk)
    assert (response.score, response.category) == (2, "detractor")
    assert Ticket.objects.filter(customer=customer).count() == 1
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()


def _history(customer: Customer, answers: int) -> None:
    """``answers`` unhappy answers, each with its ticket, alert, message and webhook events."""
    agent = UserFactory(email=f"agent{customer.pk}@staff.example.com", is_staff=True)
    agent.groups.add(Group.objects.get_or_create(name="Agent")[0])
    for n in range(answers):
        invitation = InvitationFactory(
            customer=customer,
            interaction__customer=customer,
            state=InvitationState.SENT,
            sent_at=timezone.now(),
        )
        response = response_record(
            invitation_id=invitation.pk, score=1, comment=f"bad {n}"
        ).response
        ticket = ticket_sync_for_response(response_id=response.pk).ticket
        assert ticket is not None
        inbound_email_receive(
            raw=_raw_email(to=f"help@{DOMAIN}", subject=f"n{n}", body=f"hello {n}"),
            source="command",
        )


def test_erasure_takes_the_same_few_queries_however_much_is_stored(settings: Any) -> None:
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN
    webhook_endpoint_create(url="https://hooks.example.com/cx", events=list(EVENTS))
    counts = []
    for answers in (1, 4):
        customer = CustomerFactory(email=EMAIL, name=NAME)
        _history(customer, answers)
        with CaptureQueriesContext(connection) as queries:
            customer_erase(customer_id=customer.pk)
        counts.append(len(queries))
    # Bulk updates: one query per kind of row, not one per row.
    assert counts[0] == counts[1], counts
