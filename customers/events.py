"""The webhook events customers emit, and their payloads."""

from __future__ import annotations

from rest_framework import serializers

from customers.models import Customer
from cxcrm.webhooks.docs import webhook_event_documented
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


class CustomerUnsubscribedDataSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The customer's id.")
    external_id = serializers.CharField(help_text="Your id of the customer.")
    unsubscribed_at = serializers.DateTimeField()


webhook_event_documented(
    name="CustomerUnsubscribedEvent",
    events={
        CUSTOMER_UNSUBSCRIBED: "a customer unsubscribed (a link, one-click List-Unsubscribe, "
        "an email to the unsubscribe address); no survey is sent to them again."
    },
    data=CustomerUnsubscribedDataSerializer,
    example={
        "id": 42,
        "external_id": "demo-cust-0042",
        "unsubscribed_at": "2026-12-01T09:30:00+00:00",
    },
)
