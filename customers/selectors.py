"""Reads of customers shared by every part that names one (API, bulk ingest, CSV import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q

from customers.models import Customer

# How an integrator names a customer: our id (an int) or their own external id (a str).
CustomerRef = int | str


def customer_resolve_many(
    refs: Iterable[CustomerRef], *, only: Sequence[str] | None = None
) -> dict[CustomerRef, Customer]:
    """The customers these references name, by reference, in one query; a reference that
    names nobody is absent from the result. The one rule for resolving a customer reference.
    ``only``: the fields the caller reads (besides the id), for callers that need no more
    (bulk ingest wants the ids of a thousand customers, not their rows)."""
    refs = set(refs)
    ids = {ref for ref in refs if isinstance(ref, int)}
    external_ids = {ref for ref in refs if isinstance(ref, str)}
    found: dict[CustomerRef, Customer] = {}
    if not refs:
        return found
    # any_of: one array parameter however long the list (batches of 1,000 references).
    wanted = Q()
    if ids:
        wanted |= Q(pk__any_of=list(ids))
    if external_ids:
        wanted |= Q(external_id__any_of=list(external_ids))
    customers = Customer.objects.filter(wanted).order_by()
    if only is not None:
        customers = customers.only("external_id", *only)
    for customer in customers:
        if customer.pk in ids:
            found[customer.pk] = customer
        if customer.external_id in external_ids:
            found[customer.external_id] = customer
    return found
