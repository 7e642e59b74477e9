"""A customer's inbound emails in the privacy services (export, erasure)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import ERASED_TEXT, admin_log_scrub, iso
from customers.signals import customer_erasing, customer_exporting
from feedback.inbound.models import InboundEmail


def _inbound_ids(customer: Customer) -> list[int]:
    """Their mail matched to their invitations, answers or tickets, and whatever else came
    from their address (unmatched, or before they were a customer). One indexed query per
    link (the address through the index on UPPER(from_email)): an OR across the joins would
    read the whole table."""
    links = [
        InboundEmail.objects.filter(invitation__customer=customer),
        InboundEmail.objects.filter(response__customer=customer),
        InboundEmail.objects.filter(ticket__customer=customer),
    ]
    if customer.email:
        links.append(InboundEmail.objects.filter(from_email__iexact=customer.email))
    ids = set()
    for link in links:
        ids.update(link.order_by().values_list("id", flat=True))
    return sorted(ids)


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
            for e in InboundEmail.objects.filter(pk__in=_inbound_ids(customer))
        ]
    }


@receiver(customer_erasing, sender=Customer, dispatch_uid="inbound-erase")
def inbound_erase(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # Sent while the customer's address is still known: it finds their unmatched emails too.
    # Their ids first: the update blanks the address that found some of them.
    ids = _inbound_ids(customer)
    InboundEmail.objects.filter(pk__in=ids).update(
        from_email="", to="", envelope_to="", subject=ERASED_TEXT, raw=b"", text="", note=""
    )
    admin_log_scrub(InboundEmail, ids, label="Inbound email (customer erased)")
