"""Reads of customers for the API; every view's queryset starts here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from customers.models import Customer


def customers_visible_to(principal: Any) -> QuerySet[Customer]:
    """Any API key or staff member sees every customer (one organisation per installation);
    nobody else sees any. Erased customers stay listed: their rows hold no personal data."""
    if principal is None:
        return Customer.objects.none()
    return Customer.objects.all()
