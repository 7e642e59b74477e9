"""Delivery events from an ESP (anymail's normalised tracking webhooks) feed suppression:
hard bounces and spam complaints suppress the address at once, soft bounces after three."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from customers.models import Customer, SuppressionReason
from customers.services import (
    customer_record_soft_bounce,
    customer_suppress,
    customer_unsubscribe,
)
from feedback.surveys.models import EmailStatus, OutboundEmail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryEvent:
    event_type: str  # anymail's EventType: bounced, complained, deferred, rejected...
    recipient: str
    message_id: str = ""
    reject_reason: str = ""
    mta_response: str = ""
    soft: bool = False  # the ESP says the bounce was temporary (e.g. Postmark SoftBounce)


def is_soft_bounce(event: DeliveryEvent) -> bool:
    return event.soft or event.mta_response.strip().startswith("4")


@transaction.atomic
def delivery_event_record(*, event: DeliveryEvent) -> str:
    """Apply one delivery event; returns what it did (for logs and tests)."""
    address = (event.recipient or "").strip()
    if not address:
        return "ignored: no recipient"
    customers = list(Customer.objects.filter(email__iexact=address).only("pk", "email"))
    if event.message_id:
        status = {
            "bounced": EmailStatus.BOUNCED,
            "rejected": EmailStatus.FAILED,
            "failed": EmailStatus.FAILED,
        }.get(event.event_type)
        if status:
            OutboundEmail.objects.filter(message_id=event.message_id).update(
                status=status, error=(event.mta_response or event.reject_reason)[:1000]
            )
    if not customers:
        return "ignored: unknown address"
    if event.event_type == "complained":
        for customer in customers:
            customer_suppress(customer_id=customer.pk, reason=SuppressionReason.COMPLAINT)
        return "suppressed: complaint"
    if event.event_type == "unsubscribed":
        for customer in customers:
            customer_unsubscribe(customer=customer)
        return "unsubscribed"
    hard = event.event_type == "bounced" or (
        event.event_type == "rejected" and event.reject_reason in {"bounced", "invalid"}
    )
    if hard and not is_soft_bounce(event):
        for customer in customers:
            customer_suppress(
                customer_id=customer.pk,
                reason=SuppressionReason.HARD_BOUNCE,
                detail=event.mta_response[:200],
            )
        return "suppressed: hard bounce"
    if event.event_type == "bounced":
        counts = [customer_record_soft_bounce(customer_id=c.pk) for c in customers]
        return f"soft bounce #{max(counts)}"
    return f"ignored: {event.event_type}"
