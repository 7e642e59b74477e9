"""Reads of customers shared by every part that names one (API, bulk ingest, CSV import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import QuerySet

from customers.models import Customer
from cxcrm.references import references_resolve

# How an integrator names a customer: our id (an int) or their own external id (a str).
CustomerRef = int | str


def customer_resolve_many(
    refs: Iterable[CustomerRef], *, only: Sequence[str] | None = None
) -> dict[CustomerRef, Customer]:
    """The customers these references name, by reference, in one query (the one rule for
    resolving a customer reference); ``only`` as in ``references_resolve``."""
    return references_resolve(Customer.objects.all(), refs, key="external_id", only=only)


def customers_by_email(email: str) -> QuerySet[Customer]:
    """Customers (not erased) with this address, any case, the most recently added first: who
    an email from it may be about. Several customers may share an address."""
    email = (email or "").strip()
    if "@" not in email:
        return Customer.objects.none()
    return Customer.objects.filter(email__iexact=email, erased_at__isnull=True).order_by(
        "-created_at", "-id"
    )
