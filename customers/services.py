"""Writes on customers: consent (unsubscribe, resubscribe) and suppression (bounces, complaints)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer, SuppressionReason

SOFT_BOUNCES_TO_SUPPRESS = 3


def _cancel_pending(customer: Customer, reason: str) -> int:
    from feedback.services.invitations import invitations_cancel_for_customer

    return invitations_cancel_for_customer(customer=customer, reason=reason)


@transaction.atomic
def customer_unsubscribe(*, customer: Customer) -> bool:
    """Opt the customer out of surveys and cancel what has not gone out. True if it changed."""
    changed = bool(
        Customer.objects.filter(pk=customer.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now(), updated_at=timezone.now()
        )
    )
    _cancel_pending(customer, "The customer unsubscribed.")
    customer.refresh_from_db(fields=["unsubscribed_at"])
    return changed


@transaction.atomic
def customer_resubscribe(*, customer: Customer) -> bool:
    changed = bool(
        Customer.objects.filter(pk=customer.pk, unsubscribed_at__isnull=False).update(
            unsubscribed_at=None, updated_at=timezone.now()
        )
    )
    customer.refresh_from_db(fields=["unsubscribed_at"])
    return changed


@transaction.atomic
def customer_suppress(*, customer_id: int, reason: str, detail: str = "") -> bool:
    """Stop all email to the customer's address (hard bounce, complaint, staff). Idempotent."""
    if reason not in SuppressionReason.values:
        raise ValueError(f"Unknown suppression reason {reason!r}.")
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    changed = customer.suppressed_at is None
    if changed:
        customer.suppressed_at = timezone.now()
        customer.suppression_reason = reason
        customer.save(update_fields=["suppressed_at", "suppression_reason", "updated_at"])
    _cancel_pending(customer, f"Address suppressed: {reason}. {detail}".strip())
    return changed


@transaction.atomic
def customer_record_soft_bounce(*, customer_id: int) -> int:
    """Count a soft bounce; the third suppresses the address. Returns the new count."""
    Customer.objects.filter(pk=customer_id).update(soft_bounce_count=F("soft_bounce_count") + 1)
    count = Customer.objects.values_list("soft_bounce_count", flat=True).get(pk=customer_id)
    if count >= SOFT_BOUNCES_TO_SUPPRESS:
        customer_suppress(customer_id=customer_id, reason=SuppressionReason.SOFT_BOUNCES)
    return count


@transaction.atomic
def customer_unsuppress(*, customer_id: int) -> bool:
    return bool(
        Customer.objects.filter(pk=customer_id, suppressed_at__isnull=False).update(
            suppressed_at=None,
            suppression_reason="",
            soft_bounce_count=0,
            updated_at=timezone.now(),
        )
    )
