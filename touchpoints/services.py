from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

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


@dataclass(frozen=True)
class InteractionInput:
    """One interaction to record, its references already resolved (the caller validated the
    fields: the API's serializer or the CSV import's form)."""

    customer: Customer
    touchpoint: Touchpoint
    occurred_at: datetime
    source: str
    external_id: str
    order_ref: str = ""
    amount: Decimal | None = None
    currency: str = ""
    metadata: dict[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        """The keyword arguments of ``interaction_record`` (and of an Interaction)."""
        return {
            "customer": self.customer,
            "touchpoint": self.touchpoint,
            "occurred_at": self.occurred_at,
            "source": self.source,
            "external_id": self.external_id,
            "order_ref": self.order_ref,
            "amount": self.amount,
            "currency": self.currency,
            "metadata": self.metadata,
        }


@transaction.atomic
def interactions_record_bulk(*, items: list[InteractionInput]) -> list[InteractionResult]:
    """``interaction_record`` for many interactions in one transaction and a fixed number of
    queries: existing (source, external_id) pairs are returned as they are, new ones are
    inserted together, and the survey rules run once over the batch
    (``invitations_schedule_for_many``: the same decisions as one by one). An event repeated
    within the batch is recorded once. Results are in the order of ``items``.

    If a concurrent request inserts one of the same events meanwhile, the batch insert fails
    on the unique constraint and the batch is recorded one by one instead, which resolves
    each race the way ``interaction_record`` does.
    """
    from feedback.services.invitations import invitations_schedule_for_many

    wanted = {(item.source, item.external_id) for item in items}
    existing: dict[tuple[str, str], Interaction] = {}
    if wanted:
        for row in Interaction.objects.filter(
            source__in={s for s, _ in wanted}, external_id__in={e for _, e in wanted}
        ):
            if (row.source, row.external_id) in wanted:
                existing[(row.source, row.external_id)] = row
    new: dict[tuple[str, str], Interaction] = {}
    for item in items:
        key = (item.source, item.external_id)
        if key in existing or key in new:
            continue
        if not item.source or not item.external_id:
            raise ValueError("source and external_id are required.")
        new[key] = Interaction(**{**item.fields(), "metadata": item.metadata or {}})
    try:
        with transaction.atomic():
            _insert_many(list(new.values()))
    except IntegrityError:
        return [interaction_record(**item.fields()) for item in items]
    invited = invitations_schedule_for_many(interactions=list(new.values()))
    results: list[InteractionResult] = []
    reported: set[tuple[str, str]] = set()
    for item in items:
        key = (item.source, item.external_id)
        if key in new and key not in reported:
            reported.add(key)
            interaction = new[key]
            results.append(InteractionResult(interaction, True, invited.get(interaction.pk, 0)))
        else:
            results.append(InteractionResult(existing.get(key) or new[key], False, 0))
    return results


def _insert_many(rows: list[Interaction]) -> None:
    """bulk_create, except on PostgreSQL: one INSERT … SELECT FROM unnest() of ten array
    parameters instead of ten parameters per row. psycopg converts a query's parameters one by
    one on the client, and for 1,000 rows that conversion cost as much as the insert itself."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Interaction.objects.bulk_create(rows)
        return
    now = timezone.now()
    for row in rows:
        row.created_at = now
    columns = {
        "customer_id": ("bigint", [r.customer_id for r in rows]),
        "touchpoint_id": ("bigint", [r.touchpoint_id for r in rows]),
        "occurred_at": ("timestamptz", [r.occurred_at for r in rows]),
        "source": ("text", [r.source for r in rows]),
        "external_id": ("text", [r.external_id for r in rows]),
        "order_ref": ("text", [r.order_ref for r in rows]),
        "amount": ("numeric", [r.amount for r in rows]),
        "currency": ("text", [r.currency for r in rows]),
        "metadata": ("jsonb", [json.dumps(r.metadata) for r in rows]),
        "created_at": ("timestamptz", [now] * len(rows)),
    }
    arrays = ", ".join(
        f"%s::text[]::{kind}[]" if kind == "jsonb" else f"%s::{kind}[]"
        for kind, _ in columns.values()
    )
    sql = (
        f"INSERT INTO {Interaction._meta.db_table} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({arrays}) RETURNING id, source, external_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [values for _, values in columns.values()])
        # Matched by key rather than by position: RETURNING promises no order.
        ids = {(source, external_id): pk for pk, source, external_id in cursor.fetchall()}
    for row in rows:
        row.pk = ids[(row.source, row.external_id)]
        row._state.adding = False
