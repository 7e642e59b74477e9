"""Writes on customers: consent (unsubscribe, resubscribe) and suppression (bounces, complaints)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from customers import events
from customers.models import Customer, SuppressionReason
from customers.signals import customer_contact_stopped, customer_segment_changed
from cxcrm.errors import ServiceError

SOFT_BOUNCES_TO_SUPPRESS = 3


def _cancel_pending(customer: Customer, reason: str) -> None:
    # What was scheduled and not sent is cancelled by the app that scheduled it.
    customer_contact_stopped.send(sender=Customer, customer=customer, reason=reason)


@transaction.atomic
def customer_unsubscribe(*, customer: Customer, now: datetime | None = None) -> bool:
    """Opt the customer out of surveys and cancel what has not gone out. True if it changed."""
    now = now or timezone.now()
    changed = bool(
        Customer.objects.filter(pk=customer.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, updated_at=timezone.now()
        )
    )
    _cancel_pending(customer, "The customer unsubscribed.")
    customer.refresh_from_db(fields=["unsubscribed_at"])
    events.customer_unsubscribed(customer, changed=changed)
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
def customer_suppress(
    *, customer_id: int, reason: str, detail: str = "", now: datetime | None = None
) -> bool:
    """Stop all email to the customer's address (hard bounce, complaint, staff). Idempotent."""
    if reason not in SuppressionReason.values:
        raise ValueError(f"Unknown suppression reason {reason!r}.")
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    changed = customer.suppressed_at is None
    if changed:
        customer.suppressed_at = now or timezone.now()
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


class CustomerError(ServiceError, ValueError):
    """The customer data cannot be stored as given."""


# Fields an integrator may set; consent, suppression and erasure have their own services.
UPSERT_FIELDS = ("email", "name", "phone", "language", "country", "segment", "tags", "attributes")


@transaction.atomic
def customer_upsert(*, external_id: str, **fields: Any) -> tuple[Customer, bool]:
    """Create the customer with this external id, or update the fields given on the existing
    one. Returns (customer, created). An erased customer stays erased: personal data sent for
    it again is refused rather than silently re-identifying the person."""
    unknown = set(fields) - set(UPSERT_FIELDS)
    if unknown:
        raise CustomerError(f"Unknown customer fields: {', '.join(sorted(unknown))}.")
    external_id = (external_id or "").strip()
    if not external_id:
        raise CustomerError("external_id is required.")
    customer = Customer.objects.select_for_update().filter(external_id=external_id).first()
    created = customer is None
    if customer is None:
        customer = Customer(external_id=external_id)
    elif customer.erased_at is not None:
        raise CustomerError("This customer was erased; their data cannot be set again.")
    segment_before = customer.segment
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.full_clean(validate_unique=False, validate_constraints=False)
    if not created:
        customer.save()
        if customer.segment != segment_before:
            # Figures are grouped by segment: reporting recomputes this customer's days.
            customer_segment_changed.send(sender=Customer, customer_id=customer.pk)
        return customer, False
    try:
        # Two requests creating the same external id race here; the unique index decides.
        with transaction.atomic():
            customer.save(force_insert=True)
    except IntegrityError:
        existing = Customer.objects.select_for_update().get(external_id=external_id)
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.save()
        return existing, False
    return customer, True


@transaction.atomic
def customer_create_from_email(*, email: str) -> Customer:
    """A customer known only by an address that wrote to us (staff making a ticket of the
    mail): the address validated, everything else left to fill in later."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise CustomerError(f"{email or '(no address)'} is not an email address.") from exc
    customer = Customer(email=email)
    customer.full_clean(validate_unique=False, validate_constraints=False)
    customer.save(force_insert=True)
    return customer
