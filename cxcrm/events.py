"""Domain events for integrators: services call ``event_publish`` (or one of the helpers below)
and every active webhook endpoint subscribed to the event gets a WebhookDelivery row, written in
the caller's transaction, whose delivery is enqueued only after that transaction commits.

So an event exists exactly when the change it describes was committed: a rolled-back change
leaves no delivery behind, and a committed one is never lost (the row is the queue of record;
the ``webhooks.sweep`` beat task finds rows whose enqueue or retry went missing).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from cxcrm.models import WebhookDelivery, WebhookEndpoint
from cxcrm.tasking import enqueue_on_commit

if TYPE_CHECKING:
    from customers.models import Customer
    from feedback.models import Response, Ticket

RESPONSE_CREATED = "response.created"
RESPONSE_UPDATED = "response.updated"
TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
TICKET_RESOLVED = "ticket.resolved"
CUSTOMER_UNSUBSCRIBED = "customer.unsubscribed"
EVENTS = (
    RESPONSE_CREATED,
    RESPONSE_UPDATED,
    TICKET_CREATED,
    TICKET_UPDATED,
    TICKET_RESOLVED,
    CUSTOMER_UNSUBSCRIBED,
)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Datetimes and decimals as the API renders them; the payload is stored as JSON.
    import json

    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def event_publish(name: str, payload: dict[str, Any]) -> int:
    """Record one delivery per subscribed endpoint; returns how many. One query when nobody
    listens (the active endpoints are few; matching their event lists in Python works the same
    on SQLite, which has no JSON containment lookup)."""
    if name not in EVENTS:
        raise ValueError(f"Unknown event {name!r}.")
    endpoints = [
        pk
        for pk, events in WebhookEndpoint.objects.filter(active=True).values_list("id", "events")
        if isinstance(events, list) and name in events
    ]
    if not endpoints:
        return 0
    now = timezone.now()
    body = {"type": name, "timestamp": now.isoformat(), "data": _jsonable(payload)}
    message_id = f"msg_{uuid.uuid4().hex}"
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=pk,
                event=name,
                message_id=message_id,
                payload=body,
                next_attempt_at=now,
                created_at=now,
            )
            for pk in endpoints
        ]
    )
    from cxcrm.outbound_hooks.tasks import deliver_webhook

    for delivery in deliveries:
        enqueue_on_commit(deliver_webhook, delivery.pk)
    return len(deliveries)


# --- Payloads (the shapes integrators rely on; the API serializers show the same fields) -----


def response_data(response: Response) -> dict[str, Any]:
    return {
        "id": response.pk,
        "survey": response.survey_id,
        "invitation": response.invitation_id,
        "customer": response.customer_id,
        "touchpoint": response.touchpoint_id,
        "kind": response.kind,
        "score": response.score,
        "category": response.category,
        "comment": response.comment,
        "answers": response.answers,
        "language": response.language,
        "channel": response.channel,
        "submitted_at": response.submitted_at,
        "updated_at": response.updated_at,
    }


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


def response_changed(response: Response) -> int:
    """response.created for a first answer, response.updated for a change (a change always
    pushes the previous version onto ``history``)."""
    name = RESPONSE_UPDATED if response.history else RESPONSE_CREATED
    return event_publish(name, response_data(response))


def ticket_created(ticket: Ticket) -> int:
    return event_publish(TICKET_CREATED, ticket_data(ticket))


def ticket_updated(ticket: Ticket) -> int:
    return event_publish(TICKET_UPDATED, ticket_data(ticket))


def ticket_resolved(ticket: Ticket) -> int:
    return event_publish(TICKET_RESOLVED, ticket_data(ticket))


def customer_unsubscribed(customer: Customer, *, changed: bool = True) -> int:
    if not changed:
        return 0
    return event_publish(
        CUSTOMER_UNSUBSCRIBED,
        {
            "id": customer.pk,
            "external_id": customer.external_id,
            "unsubscribed_at": customer.unsubscribed_at,
        },
    )
