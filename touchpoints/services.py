from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import Customer
from cxcrm.rows import COPY_FROM
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

    On PostgreSQL the insert skips rows whose (source, external_id) is already stored
    (``ON CONFLICT DO NOTHING``), so an event recorded earlier, or by a concurrent request
    meanwhile, is found afterwards and returned as it is, without looking every item up first.
    Elsewhere the stored ones are looked up first; if a concurrent request inserts one of the
    same events meanwhile, the batch insert fails on the unique constraint and the batch is
    recorded one by one instead, which resolves each race the way ``interaction_record`` does.
    """
    from feedback.services.invitations import invitations_schedule_for_many

    for item in items:
        if not item.source or not item.external_id:
            raise ValueError("source and external_id are required.")
    wanted = {(item.source, item.external_id) for item in items}
    postgres = connection.vendor == "postgresql"
    existing = {} if postgres else _stored(wanted)
    new: dict[tuple[str, str], Interaction] = {}
    for item in items:
        key = (item.source, item.external_id)
        if key not in existing and key not in new:
            new[key] = Interaction(**{**item.fields(), "metadata": item.metadata or {}})
    try:
        with transaction.atomic():
            _insert_many(list(new.values()))
    except IntegrityError:
        return [interaction_record(**item.fields()) for item in items]
    if postgres:
        skipped = {key for key, row in new.items() if row.pk is None}
        if skipped:
            existing = _stored(skipped)
            new = {key: row for key, row in new.items() if key not in skipped}
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


def _stored(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Interaction]:
    """The stored interactions among these (source, external_id) pairs."""
    found: dict[tuple[str, str], Interaction] = {}
    if not keys:
        return found
    for row in Interaction.objects.filter(
        source__in={s for s, _ in keys}, external_id__any_of=list({e for _, e in keys})
    ):
        if (row.source, row.external_id) in keys:
            found[(row.source, row.external_id)] = row
    return found


# From COPY_FROM rows on, PostgreSQL gets them by COPY into a temporary table (no parameters
# to convert one by one on the client) and one INSERT … SELECT from it; below, one INSERT with
# array parameters, which costs no table creation. The columns and their SQL types, in the
# order of _values():
_COLUMNS = {
    "customer_id": "bigint",
    "touchpoint_id": "bigint",
    "occurred_at": "timestamptz",
    "source": "text",
    "external_id": "text",
    "order_ref": "text",
    "amount": "numeric",
    "currency": "text",
    "metadata": "jsonb",
}


def _values(r: Interaction) -> tuple[Any, ...]:
    return (
        r.customer_id,
        r.touchpoint_id,
        r.occurred_at,
        r.source,
        r.external_id,
        r.order_ref,
        r.amount,
        r.currency,
        json.dumps(r.metadata),
    )


def _insert_many(rows: list[Interaction]) -> None:
    """Insert new interactions and set their pk; on PostgreSQL a row whose (source,
    external_id) is already stored is skipped and keeps ``pk = None``.

    Not bulk_create on PostgreSQL: psycopg converts a query's parameters one by one on the
    client, and for 1,000 rows of ten columns that conversion cost as much as the insert."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Interaction.objects.bulk_create(rows)
        return
    now = timezone.now()
    for row in rows:
        row.created_at = now
    table = Interaction._meta.db_table
    names = ", ".join(_COLUMNS)
    conflict = "ON CONFLICT (source, external_id) DO NOTHING RETURNING id, source, external_id"
    values = [_values(r) for r in rows]
    with connection.cursor() as cursor:
        if len(rows) >= COPY_FROM:
            staging = f"cx_new_interactions_{uuid.uuid4().hex}"
            columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
            cursor.execute(f"CREATE TEMPORARY TABLE {staging} ({columns}) ON COMMIT DROP")
            # COPY is not an execute(): Django's query log does not see it.
            with cursor.cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for row_values in values:
                    copy.write_row(row_values)
            cursor.execute(
                f"INSERT INTO {table} ({names}, created_at) SELECT {names}, %s FROM {staging} "
                + conflict,
                [now],
            )
            returned = cursor.fetchall()
            cursor.execute(f"DROP TABLE {staging}")
        else:
            arrays = ", ".join(
                "%s::text[]::jsonb[]" if kind == "jsonb" else f"%s::{kind}[]"
                for kind in _COLUMNS.values()
            )
            cursor.execute(
                f"INSERT INTO {table} ({names}, created_at) "
                f"SELECT *, %s FROM unnest({arrays}) " + conflict,
                [now, *(list(column) for column in zip(*values, strict=True))],
            )
            returned = cursor.fetchall()
    # Matched by key rather than by position: RETURNING promises no order.
    ids = {(source, external_id): pk for pk, source, external_id in returned}
    for row in rows:
        pk = ids.get((row.source, row.external_id))
        if pk is not None:
            row.pk = pk
            row._state.adding = False
