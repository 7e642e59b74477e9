"""The webhook events tickets emit, and their payload (the API's ticket fields)."""

from __future__ import annotations

from typing import Any

from customers.events import webhook_subject
from cxcrm.webhooks.event_types import TICKET_CREATED, TICKET_RESOLVED, TICKET_UPDATED
from cxcrm.webhooks.events import event_publish
from feedback.tickets.models import Ticket


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
