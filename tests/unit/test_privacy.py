"""Export, erasure, retention and the audit trail of personal data."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers.models import AuditEntry, Customer
from customers.privacy import customer_erase, customer_export, customers_erase_inactive
from feedback.inbound.models import InboundEmail
from feedback.surveys.models import Invitation, InvitationState, OutboundEmail, Response
from feedback.tickets.models import TicketMessage
from feedback.tickets.services import ticket_sync_for_response
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EMAIL = "zed.quux@example.org"
NAME = "Zed Quuxworth"
PHONE = "+44 7700 900123"


@pytest.fixture
def customer_with_history():  # type: ignore[no-untyped-def]
    customer = CustomerFactory(email=EMAIL, name=NAME, phone=PHONE, external_id="crm-zed")
    interaction = InteractionFactory(
        customer=customer, order_ref=f"order for {NAME}", metadata={"email": EMAIL}
    )
    invitation = InvitationFactory(
        customer=customer, interaction=interaction, state="responded", sent_at=timezone.now()
    )
    response = ResponseFactory(
        invitation=invitation,
        score=2,
        comment=f"I am {NAME}, call me on {PHONE}",
        answers={"callback": {"phone": PHONE, "time": "any"}},
        history=[{"score": 1, "comment": f"{NAME} here"}],
    )
    ticket = ticket_sync_for_response(response_id=response.pk).ticket
    OutboundEmail.objects.create(
        to_email=EMAIL,
        subject=f"Hello {NAME}",
        body_text=f"Dear {NAME}",
        customer=customer,
        headers={"To": EMAIL},
    )
    InboundEmail.objects.create(
        source="command",
        from_email=EMAIL,
        subject=f"Re: from {NAME}",
        raw=f"From: {NAME} <{EMAIL}>\r\n\r\nhi".encode(),
        text=f"{NAME} writes",
        invitation=invitation,
        ticket=ticket,
    )
    pending = InvitationFactory(customer=customer, scheduled_for=timezone.now() + timedelta(days=1))
    return customer, response, ticket, pending


def test_export_holds_everything_about_the_customer(customer_with_history, admin_client) -> None:  # type: ignore[no-untyped-def]
    customer, response, ticket, _pending = customer_with_history
    data = customer_export(customer_id=customer.pk)
    assert data["customer"]["email"] == EMAIL and data["customer"]["phone"] == PHONE
    assert len(data["interactions"]) == 1 and data["interactions"][0]["order_ref"]
    assert len(data["invitations"]) == 2
    assert data["responses"][0]["comment"] == response.comment
    assert data["tickets"][0]["id"] == ticket.pk
    assert any(m["body"] == response.comment for m in data["tickets"][0]["messages"])
    assert data["emails_sent"][0]["subject"] == f"Hello {NAME}"
    assert data["emails_received"][0]["text"] == f"{NAME} writes"
    json.dumps(data)  # JSON-ready

    page = admin_client.post(
        "/admin/customers/customer/",
        {"action": "export_json", "_selected_action": [customer.pk]},
    )
    assert page["Content-Type"].startswith("application/json")
    assert json.loads(page.content)["customer"]["name"] == NAME
    assert AuditEntry.objects.filter(action="exported", object_id=str(customer.pk)).count() == 2


def _tables_containing(needle: str) -> list[str]:
    """Every table of the database whose rows mention the needle anywhere, in any column."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # table names come from introspection
            for row in cursor.fetchall():
                text = " ".join(
                    bytes(v).decode("utf-8", "replace")
                    if isinstance(v, bytes | memoryview)
                    else str(v)
                    for v in row
                )
                if needle.lower() in text.lower():
                    found.append(table)
                    break
    return found


def test_erased_customers_email_name_and_phone_appear_in_no_table(customer_with_history) -> None:  # type: ignore[no-untyped-def]
    customer, response, ticket, pending = customer_with_history
    assert "customers_customer" in _tables_containing(EMAIL)  # the scan does find things

    customer_erase(customer_id=customer.pk, actor="test")

    for needle in (EMAIL, NAME, PHONE, "Quuxworth", "crm-zed"):
        assert _tables_containing(needle) == [], needle
    # The scores stay, anonymous, so the metrics stay true.
    response.refresh_from_db()
    assert (response.score, response.category) == (2, "detractor")
    customer.refresh_from_db()
    assert customer.erased_at is not None and not customer.is_reachable
    pending.refresh_from_db()
    assert pending.state == InvitationState.CANCELLED
    assert TicketMessage.objects.filter(ticket=ticket).exclude(body="[erased]").count() == 0
    assert AuditEntry.objects.filter(action="erased", object_id=str(customer.pk)).exists()
    # Erasing twice is harmless.
    customer_erase(customer_id=customer.pk)


def test_erase_in_the_admin_asks_first(customer_with_history, admin_client) -> None:  # type: ignore[no-untyped-def]
    customer = customer_with_history[0]
    url = "/admin/customers/customer/"
    # Staff edit the customer first: Django's admin history now holds the name too.
    admin_client.post(
        f"{url}{customer.pk}/change/",
        {
            "email": EMAIL,
            "name": NAME,
            "phone": PHONE,
            "language": "en",
            "external_id": "crm-zed",
            "tags": "[]",
            "attributes": "{}",
            "suppression_reason": "",
        },
    )
    ask = admin_client.post(
        url, {"action": "erase_personal_data", "_selected_action": [customer.pk]}
    )
    assert ask.status_code == 200 and b"cannot be undone" in ask.content
    customer.refresh_from_db()
    assert customer.email == EMAIL  # nothing happened yet
    admin_client.post(
        url,
        {"action": "erase_personal_data", "_selected_action": [customer.pk], "confirm": "yes"},
    )
    customer.refresh_from_db()
    assert customer.email == "" and customer.erased_at is not None
    for needle in (EMAIL, NAME, PHONE):
        assert _tables_containing(needle) == [], needle


def test_viewing_and_changing_a_customer_is_audited(admin_client) -> None:  # type: ignore[no-untyped-def]
    customer = CustomerFactory()
    admin_client.get(f"/admin/customers/customer/{customer.pk}/change/")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "viewed",
        "customer",
        str(customer.pk),
    )
    assert entry.actor_label == "boss"


def test_retention_erases_only_long_inactive_customers(settings) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    old = CustomerFactory(created_at=now - timedelta(days=500))
    active = CustomerFactory(created_at=now - timedelta(days=500))
    InteractionFactory(customer=active, occurred_at=now - timedelta(days=10))
    new = CustomerFactory()
    settings.CXCRM_RETENTION_MONTHS = 0
    assert customers_erase_inactive(now=now) == 0
    settings.CXCRM_RETENTION_MONTHS = 12
    assert customers_erase_inactive(now=now) == 1
    erased = {c.pk for c in Customer.objects.filter(erased_at__isnull=False)}
    assert erased == {old.pk}
    assert new.pk not in erased and active.pk not in erased


def test_invitation_scheduled_for_erased_customer_is_not_counted() -> None:
    customer = CustomerFactory()
    customer_erase(customer_id=customer.pk)
    assert not Customer.objects.reachable().filter(pk=customer.pk).exists()
    assert not Invitation.objects.filter(customer=customer, state="scheduled").exists()
    assert Response.objects.count() == 0
