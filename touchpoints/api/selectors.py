"""Reads of touchpoints and interactions for the API; relations are joined here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from touchpoints.models import Interaction, Touchpoint


def touchpoints_visible_to(principal: Any) -> QuerySet[Touchpoint]:
    if principal is None:
        return Touchpoint.objects.none()
    return Touchpoint.objects.select_related("owner")


def interactions_visible_to(principal: Any) -> QuerySet[Interaction]:
    if principal is None:
        return Interaction.objects.none()
    # The list shows the customer's external id and the touchpoint's slug: one join each.
    return Interaction.objects.select_related("customer", "touchpoint").only(
        *[f.name for f in Interaction._meta.concrete_fields],
        "customer__id",
        "customer__external_id",
        "touchpoint__id",
        "touchpoint__slug",
    )
