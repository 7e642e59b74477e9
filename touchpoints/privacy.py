"""A customer's interactions in the privacy services (export, erasure, retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef
from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import admin_log_scrub, iso
from customers.signals import customer_activity, customer_erasing, customer_exporting
from touchpoints.models import Interaction


@receiver(customer_exporting, sender=Customer, dispatch_uid="touchpoints-export")
def interactions_export(sender: Any, customer: Customer, **kwargs: Any) -> dict[str, Any]:
    return {
        "interactions": [
            {
                "id": i.pk,
                "touchpoint": i.touchpoint.name,
                "occurred_at": iso(i.occurred_at),
                "source": i.source,
                "external_id": i.external_id,
                "order_ref": i.order_ref,
                "amount": str(i.amount) if i.amount is not None else None,
                "currency": i.currency,
                "metadata": i.metadata,
            }
            for i in Interaction.objects.filter(customer=customer).select_related("touchpoint")
        ]
    }


@receiver(customer_erasing, sender=Customer, dispatch_uid="touchpoints-erase")
def interactions_erase(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # Touchpoint and time stay: the journey map counts them.
    interactions = Interaction.objects.filter(customer=customer)
    interactions.update(metadata={}, order_ref="")
    admin_log_scrub(Interaction, interactions, label="Interaction (customer erased)")


@receiver(customer_activity, sender=Customer, dispatch_uid="touchpoints-activity")
def interactions_since(sender: Any, cutoff: datetime, **kwargs: Any) -> list[Exists]:
    return [Exists(Interaction.objects.filter(customer=OuterRef("pk"), occurred_at__gte=cutoff))]
