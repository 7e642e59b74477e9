"""The webhook events tickets emit, and their payload (the API's ticket fields)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from customers.events import webhook_subject
from cxcrm.webhooks.docs import webhook_event_documented
from cxcrm.webhooks.event_types import TICKET_CREATED, TICKET_RESOLVED, TICKET_UPDATED
from cxcrm.webhooks.events import event_publish
from feedback.tickets.models import Ticket, TicketPriority, TicketSource, TicketStatus


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "customer": ticket.customer_id,
        "response": ticket.response_id,
        "touchpoint": ticket.touchpoint_id,
        "source": ticket.source,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id,
        "due_at": ticket.due_at,
        "first_contact_at": ticket.first_contact_at,
        "resolved_at": ticket.resolved_at,
        "root_cause": ticket.root_cause_id,
        "resolution": ticket.resolution,
        "recovered": ticket.recovered,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def _subject(ticket: Ticket) -> str:
    # The payload carries the subject line, which names the customer.
    return webhook_subject(ticket.customer_id)


def ticket_created(ticket: Ticket) -> int:
    return event_publish(TICKET_CREATED, ticket_data(ticket), subject=_subject(ticket))


def ticket_updated(ticket: Ticket) -> int:
    return event_publish(TICKET_UPDATED, ticket_data(ticket), subject=_subject(ticket))


def ticket_resolved(ticket: Ticket) -> int:
    return event_publish(TICKET_RESOLVED, ticket_data(ticket), subject=_subject(ticket))


class TicketEventDataSerializer(serializers.Serializer):
    # The schema of ticket_data's dict (tests/unit/test_api_docs.py checks a real one against it).
    id = serializers.IntegerField()
    customer = serializers.IntegerField(help_text="The customer's id.")
    response = serializers.IntegerField(allow_null=True, help_text="The answer that opened it.")
    touchpoint = serializers.IntegerField(allow_null=True)
    source = serializers.ChoiceField(choices=TicketSource.choices)
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    priority = serializers.ChoiceField(choices=TicketPriority.choices)
    assignee = serializers.IntegerField(allow_null=True, help_text="The staff user's id.")
    due_at = serializers.DateTimeField(allow_null=True, help_text="The SLA deadline.")
    first_contact_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    root_cause = serializers.IntegerField(allow_null=True)
    resolution = serializers.CharField(allow_blank=True)
    recovered = serializers.BooleanField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


webhook_event_documented(
    name="TicketEvent",
    events={
        TICKET_CREATED: "a ticket was opened (by an unhappy answer, an email, the API or staff).",
        TICKET_UPDATED: "its status, priority or assignee changed, or it was reopened.",
        TICKET_RESOLVED: "it was resolved with a root cause.",
    },
    data=TicketEventDataSerializer,
    example={
        "id": 311,
        "customer": 42,
        "response": 1877,
        "touchpoint": 7,
        "source": "response",
        "subject": "NPS 3 from Ana Kowalska at Checkout",
        "status": "new",
        "priority": 3,
        "assignee": 5,
        "due_at": "2026-12-02T09:30:00+00:00",
        "first_contact_at": None,
        "resolved_at": None,
        "root_cause": None,
        "resolution": "",
        "recovered": None,
        "created_at": "2026-12-01T09:30:00+00:00",
        "updated_at": "2026-12-01T09:30:00+00:00",
    },
)
