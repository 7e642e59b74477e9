"""Reads of customers shared by every part that names one (API, bulk ingest, CSV import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
