"""Domain events for integrators: services call ``event_publish`` (each app keeps its payloads
in its own ``events`` module)
and every active webhook endpoint subscribed to the event gets a WebhookDelivery row, written in
the caller's transaction, whose delivery is enqueued only after that transaction commits.

So an event exists exactly when the change it describes was committed: a rolled-back change
leaves no delivery behind, and a committed one is never lost (the row is the queue of record;
the ``webhooks.sweep`` beat task finds rows whose enqueue or retry went missing).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from cxcrm.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from cxcrm.tasking import enqueue_on_commit
from cxcrm.webhooks.event_types import EVENTS
from cxcrm.webhooks.tasks import deliver_webhook


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Datetimes and decimals as the API renders them; the payload is stored as JSON.
    import json

    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def event_publish(name: str, payload: dict[str, Any], *, subject: str) -> int:
    """Record one delivery per subscribed endpoint; returns how many. One query when nobody
    listens (the active endpoints are few; matching their event lists in Python works the same
    on SQLite, which has no JSON containment lookup).

    ``subject`` names whose data the payload carries (the app's own key, e.g. "customer:42"),
    so ``webhook_deliveries_erase`` can find it; "" when it is nobody's."""
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
                subject=subject[:64],
                payload=body,
                next_attempt_at=now,
                created_at=now,
            )
            for pk in endpoints
        ]
    )
    for delivery in deliveries:
        enqueue_on_commit(deliver_webhook, delivery.pk)
    return len(deliveries)


@transaction.atomic
def webhook_redeliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Send a delivery again (staff, from the log): a new row with the same webhook-id, so a
    receiver that did get the first one can tell it is the same message. None for a delivery
    whose data was erased: there is nothing left to send."""
    original = WebhookDelivery.objects.get(pk=delivery_id)
    if original.payload == ERASED_PAYLOAD:
        return None
    now = timezone.now()
    copy = WebhookDelivery.objects.create(
        endpoint_id=original.endpoint_id,
        event=original.event,
        message_id=original.message_id,
        subject=original.subject,
        payload=original.payload,
        next_attempt_at=now,
        created_at=now,
    )
    enqueue_on_commit(deliver_webhook, copy.pk)
    return copy


ERASED_PAYLOAD = {"erased": True}


def webhook_deliveries_erase(*, subject: str) -> int:
    """Erasure: the payloads (and replies, which may echo them) of every delivery about
    ``subject`` are replaced by a marker, in one update. What was not sent yet is not sent:
    the event it described no longer names anyone. Returns how many rows."""
    if not subject:
        raise ValueError("Erasing deliveries needs a subject.")
    deliveries = WebhookDelivery.objects.filter(subject=subject)
    deliveries.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        error="Not sent: the data it carried was erased.",
    )
    return deliveries.update(payload=ERASED_PAYLOAD, response_body="")
