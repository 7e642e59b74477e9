"""The webhook events customers emit, and their payloads."""

from __future__ import annotations

from customers.models import Customer
from cxcrm.webhooks.event_types import CUSTOMER_UNSUBSCRIBED
from cxcrm.webhooks.events import event_publish


def webhook_subject(customer_id: int) -> str:
    """The key every event about a customer's data is published under: erasing the customer
    scrubs the deliveries with this subject (customers.privacy.customer_erase)."""
    return f"customer:{customer_id}"


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
        subject=webhook_subject(customer.pk),
    )
