"""A customer's inbound emails in the privacy services (export, erasure)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import ERASED_TEXT, iso
from customers.signals import customer_erasing, customer_exporting
from feedback.inbound.models import InboundEmail


def _inbound_of(customer: Customer) -> Q:
    condition = Q(invitation__customer=customer) | Q(ticket__customer=customer)
    if customer.email:
        condition |= Q(from_email__iexact=customer.email)
    return condition


@receiver(customer_exporting, sender=Customer, dispatch_uid="inbound-export")
def inbound_export(sender: Any, customer: Customer, **kwargs: Any) -> dict[str, Any]:
    return {
        "emails_received": [
            {
                "from": e.from_email,
                "subject": e.subject,
                "received_at": iso(e.received_at),
                "text": e.text,
            }
            for e in InboundEmail.objects.filter(_inbound_of(customer))
        ]
    }


@receiver(customer_erasing, sender=Customer, dispatch_uid="inbound-erase")
def inbound_erase(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # Sent while the customer's address is still known: it finds their unmatched emails too.
    InboundEmail.objects.filter(_inbound_of(customer)).update(
        from_email="", to="", envelope_to="", subject=ERASED_TEXT, raw=b"", text="", note=""
    )
