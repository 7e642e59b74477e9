from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

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


class InteractionInput(NamedTuple):
    """One interaction to record in bulk, its references already resolved to ids (the caller
    validated the fields and checked that the customer and the touchpoint exist: the API's
    serializer and ``resolve_references``, or the CSV import's form)."""

    customer_id: int
    touchpoint_id: int
    occurred_at: datetime
    source: str
    external_id: str
    order_ref: str = ""
    amount: Decimal | None = None
    currency: str = ""
    metadata: dict[str, Any] | None = None


class BulkResult(NamedTuple):
    """The outcome of one item of ``interactions_record_bulk``."""

    id: int
    created: bool
    invitations: int


@transaction.atomic
def interactions_record_bulk(*, items: Sequence[InteractionInput]) -> list[BulkResult]:
    """``interaction_record`` for many interactions in one transaction and a fixed number of
    queries: existing (source, external_id) pairs are returned as they are, new ones are
    inserted together, and the survey rules run once over the batch
    (``invitations_schedule_for_many``: the same decisions as one by one). An event repeated
    within the batch is recorded once. Results are in the order of ``items``.

    Rows stay tuples from end to end (no model instance per item): a batch of 1,000 spent as
    much time building Interaction and Customer instances as PostgreSQL spent storing them.

    On PostgreSQL the insert skips rows whose (source, external_id) is already stored
    (``ON CONFLICT DO NOTHING``), so an event recorded earlier, or by a concurrent request
    meanwhile, is found afterwards and returned as it is, without looking every item up first.
    Elsewhere the stored ones are looked up first; if a concurrent request inserts one of the
    same events meanwhile, the batch insert fails on the unique constraint and the batch is
    recorded one by one instead, which resolves each race the way ``interaction_record`` does.
    """
    from feedback.services.invitations import NewInteraction, invitations_schedule_for_many

    for item in items:
        if not item.source or not item.external_id:
            raise ValueError("source and external_id are required.")
    postgres = connection.vendor == "postgresql"
    existing = {} if postgres else _stored({(i.source, i.external_id) for i in items})
    new: dict[tuple[str, str], InteractionInput] = {}
    for item in items:
        key = (item.source, item.external_id)
        if key not in existing and key not in new:
            new[key] = item
    try:
        with transaction.atomic():
            ids = _insert_many(list(new.values()))
    except IntegrityError:
        return [_record_one(item) for item in items]
    skipped = new.keys() - ids.keys()
    if skipped:
        existing = _stored(skipped)
    invited = invitations_schedule_for_many(
        interactions=[
            NewInteraction(ids[key], item.customer_id, item.touchpoint_id, item.occurred_at)
            for key, item in new.items()
            if key in ids
        ]
    )
    results: list[BulkResult] = []
    for item in items:
        key = (item.source, item.external_id)
        pk = ids.pop(key, None)
        if pk is not None:
            results.append(BulkResult(pk, True, invited.get(pk, 0)))
        else:
            # Stored before this batch, or earlier in it (its id was popped).
            results.append(
                BulkResult(existing.get(key) or _first_id(results, items, key), False, 0)
            )
    return results


def _first_id(
    results: list[BulkResult], items: Sequence[InteractionInput], key: tuple[str, str]
) -> int:
    """The id given to the first item of the batch with this key (a repeat of it)."""
    for result, item in zip(results, items, strict=False):
        if (item.source, item.external_id) == key:
            return result.id
    raise LookupError(key)


def _record_one(item: InteractionInput) -> BulkResult:
    result = interaction_record(
        customer=Customer.objects.get(pk=item.customer_id),
        touchpoint=Touchpoint.objects.get(pk=item.touchpoint_id),
        **{k: v for k, v in item._asdict().items() if k not in ("customer_id", "touchpoint_id")},
    )
    return BulkResult(result.interaction.pk, result.created, result.invitations)


def _stored(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of the stored interactions among these (source, external_id) pairs."""
    keys = set(keys)
    found: dict[tuple[str, str], int] = {}
    if not keys:
        return found
    for pk, source, external_id in Interaction.objects.filter(
        source__in={s for s, _ in keys}, external_id__any_of=list({e for _, e in keys})
    ).values_list("pk", "source", "external_id"):
        if (source, external_id) in keys:
            found[(source, external_id)] = pk
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


def _values(r: InteractionInput) -> tuple[Any, ...]:
    return (
        r.customer_id,
        r.touchpoint_id,
        r.occurred_at,
        r.source,
        r.external_id,
        r.order_ref,
        r.amount,
        r.currency,
        json.dumps(r.metadata or {}),
    )


def _insert_many(rows: list[InteractionInput]) -> dict[tuple[str, str], int]:
    """Insert new interactions; their ids by (source, external_id). On PostgreSQL a row whose
    (source, external_id) is already stored is skipped and has no id in the answer.

    Not bulk_create on PostgreSQL: psycopg converts a query's parameters one by one on the
    client, and for 1,000 rows of ten columns that conversion cost as much as the insert."""
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        made = Interaction.objects.bulk_create(
            [Interaction(**{**r._asdict(), "metadata": r.metadata or {}}) for r in rows]
        )
        return {(i.source, i.external_id): i.pk for i in made}
    now = timezone.now()
    table = Interaction._meta.db_table
    names = ", ".join(_COLUMNS)
    conflict = "ON CONFLICT (source, external_id) DO NOTHING RETURNING source, external_id, id"
    values = [_values(r) for r in rows]
    with connection.cursor() as cursor:
        if len(rows) >= COPY_FROM:
            staging = f"cx_new_interactions_{uuid.uuid4().hex}"
            columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
            # Dropped with the transaction (ON COMMIT DROP, or its rollback); the name is unique,
            # so a second batch in the same transaction makes its own.
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
    return {(source, external_id): pk for source, external_id, pk in returned}
