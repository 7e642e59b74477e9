from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from customers.models import Customer
from touchpoints.models import Interaction, Touchpoint


@dataclass(frozen=True)
class InteractionResult:
    interaction: Interaction
    created: bool
    invitations: int


@transaction.atomic
def interaction_record(
    *,
    customer: Customer,
    touchpoint: Touchpoint,
    occurred_at: datetime,
    source: str,
    external_id: str,
    order_ref: str = "",
    amount: Decimal | None = None,
    currency: str = "",
    metadata: dict[str, Any] | None = None,
) -> InteractionResult:
    """Record an interaction once per (source, external_id) and, in the same transaction,
    schedule the survey invitations it triggers. A re-sent event returns the stored one and
    schedules nothing new."""
    from feedback.services.invitations import invitations_schedule_for

    existing = Interaction.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        return InteractionResult(existing, created=False, invitations=0)
    interaction = Interaction(
        customer=customer,
        touchpoint=touchpoint,
        occurred_at=occurred_at,
        source=source,
        external_id=external_id,
        order_ref=order_ref,
        amount=amount,
        currency=currency,
        metadata=metadata or {},
    )
    interaction.full_clean(exclude=["customer", "touchpoint"], validate_unique=False)
    try:
        # A concurrent request may insert the same event between our read and this write;
        # the unique constraint decides, and the loser returns the winner's row.
        with transaction.atomic():
            interaction.save(force_insert=True)
    except IntegrityError:
        existing = Interaction.objects.get(source=source, external_id=external_id)
        return InteractionResult(existing, created=False, invitations=0)
    invitations = invitations_schedule_for(interaction=interaction)
    return InteractionResult(interaction, created=True, invitations=len(invitations))
