"""The webhook events customers emit, and their payloads."""

from __future__ import annotations

from customers.models import Customer
from cxcrm.webhooks.event_types import CUSTOMER_UNSUBSCRIBED
from cxcrm.webhooks.events import event_publish


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
