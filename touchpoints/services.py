from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import Customer
from cxcrm.rows import COPY_FROM
from touchpoints.models import Interaction, Touchpoint

if TYPE_CHECKING:
    from feedback.services.invitations import NewInteraction


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
    """One interaction to record in bulk (the caller validated the fields: the API's
    serializer, the CSV import's form). The customer is named by our id or by the
    integrator's (``customer_external_id``), the touchpoint by id or by slug; the service
    resolves and checks them (``UnknownReferences`` for those that do not exist)."""

    customer_id: int | None
    touchpoint_id: int | None
    occurred_at: datetime
    source: str
    external_id: str
    order_ref: str = ""
    amount: Decimal | None = None
    currency: str = ""
    metadata: dict[str, Any] | None = None
    customer_external_id: str | None = None
    touchpoint_slug: str | None = None


class BulkResult(NamedTuple):
    """The outcome of one item of ``interactions_record_bulk``."""

    id: int
    created: bool
    invitations: int


class UnknownReferences(Exception):
    """Items name customers or touchpoints that do not exist: per item (aligned with the
    items), the fields in error and their messages (``{}`` for a good item)."""

    def __init__(self, errors: list[dict[str, list[str]]]) -> None:
        super().__init__("Some items name a customer or a touchpoint that does not exist.")
        self.errors = errors


def _reference_errors(
    item: InteractionInput, customer_found: bool, touchpoint_found: bool
) -> dict[str, list[str]]:
    error: dict[str, list[str]] = {}
    if not customer_found:
        if item.customer_id is not None:
            error["customer"] = [f"No customer with id {item.customer_id}."]
        else:
            error["customer_external_id"] = ["No customer with this external_id."]
    if not touchpoint_found:
        if item.touchpoint_id is not None:
            error["touchpoint"] = [f"No touchpoint with id {item.touchpoint_id}."]
        else:
            error["touchpoint"] = [f"No touchpoint with slug {item.touchpoint_slug!r}."]
    return error


def interaction_references_resolve(
    items: Sequence[InteractionInput],
) -> tuple[list[InteractionInput], list[dict[str, list[str]]]]:
    """The items with their customer and touchpoint ids filled in, in three queries, and the
    errors of those whose references do not exist (aligned with the items). Reads only."""
    ids = {i.customer_id for i in items if i.customer_id is not None}
    external = {i.customer_external_id for i in items if i.customer_id is None}
    touchpoint_ids = {i.touchpoint_id for i in items if i.touchpoint_id is not None}
    slugs = {i.touchpoint_slug for i in items if i.touchpoint_id is None}
    customers = Customer.objects.order_by()
    known_ids = set(customers.filter(pk__any_of=list(ids)).values_list("pk", flat=True))
    by_external = dict(
        customers.filter(external_id__any_of=list(external)).values_list("external_id", "pk")
    )
    touchpoints = Touchpoint.objects.order_by()
    known_touchpoints = set(touchpoints.filter(pk__in=touchpoint_ids).values_list("pk", flat=True))
    by_slug = dict(touchpoints.filter(slug__in=slugs).values_list("slug", "pk"))
    resolved: list[InteractionInput] = []
    errors: list[dict[str, list[str]]] = []
    for item in items:
        customer_id = (
            (item.customer_id if item.customer_id in known_ids else None)
            if item.customer_id is not None
            else by_external.get(item.customer_external_id)
        )
        touchpoint_id = (
            (item.touchpoint_id if item.touchpoint_id in known_touchpoints else None)
            if item.touchpoint_id is not None
            else by_slug.get(item.touchpoint_slug)
        )
        errors.append(_reference_errors(item, customer_id is not None, touchpoint_id is not None))
        resolved.append(item._replace(customer_id=customer_id, touchpoint_id=touchpoint_id))
    return resolved, errors


@transaction.atomic
def interactions_record_bulk(*, items: Sequence[InteractionInput]) -> list[BulkResult]:
    """``interaction_record`` for many interactions in one transaction and a fixed number of
    queries: existing (source, external_id) pairs are returned as they are, new ones are
    inserted together, and the survey rules run once over the batch
    (``invitations_schedule_for_many``: the same decisions as one by one). An event repeated
    within the batch is recorded once. Results are in the order of ``items``. Raises
    ``UnknownReferences`` (and writes nothing) if an item names a customer or a touchpoint
    that does not exist.

    Rows stay tuples from end to end (no model instance per item): a batch of 1,000 spent as
    much time building Interaction and Customer instances as PostgreSQL spent storing them.

    On PostgreSQL one statement resolves the references (an index look-up per item, in the
    database) and inserts, skipping rows whose (source, external_id) is already stored
    (``ON CONFLICT DO NOTHING``), so an event recorded earlier, or by a concurrent request
    meanwhile, is found afterwards and returned as it is, without looking every item up first.
    Elsewhere the references and the stored events are looked up first; if a concurrent
    request inserts one of the same events meanwhile, the batch insert fails on the unique
    constraint and the batch is recorded one by one instead, which resolves each race the way
    ``interaction_record`` does.
    """
    from feedback.services.invitations import NewInteraction, invitations_schedule_for_many

    for item in items:
        if not item.source or not item.external_id:
            raise ValueError("source and external_id are required.")
    if connection.vendor == "postgresql":
        ids, recorded = _insert_resolving(items)
        existing: dict[tuple[str, str], int] = {}
        skipped = {(i.source, i.external_id) for i in items} - ids.keys()
        if skipped:
            existing = _stored(skipped)
    else:
        items, errors = interaction_references_resolve(items)
        if any(errors):
            raise UnknownReferences(errors)
        existing = _stored({(i.source, i.external_id) for i in items})
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
        recorded = [
            NewInteraction(ids[key], item.customer_id, item.touchpoint_id, item.occurred_at)  # type: ignore[arg-type]
            for key, item in new.items()
        ]
    invited = invitations_schedule_for_many(interactions=recorded)
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
        **{
            k: v
            for k, v in item._asdict().items()
            if k not in ("customer_id", "touchpoint_id", "customer_external_id", "touchpoint_slug")
        },
    )
    return BulkResult(result.interaction.pk, result.created, result.invitations)


def _stored(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of the stored interactions among these (source, external_id) pairs."""
    keys = set(keys)
    found: dict[tuple[str, str], int] = {}
    if not keys:
        return found
    for pk, source, external_id in (
        Interaction.objects.filter(
            source__in={s for s, _ in keys}, external_id__any_of=list({e for _, e in keys})
        )
        .order_by()
        .values_list("pk", "source", "external_id")
    ):
        if (source, external_id) in keys:
            found[(source, external_id)] = pk
    return found


def _insert_many(rows: list[InteractionInput]) -> dict[tuple[str, str], int]:
    """Insert new interactions (references resolved) by bulk_create; their ids by (source,
    external_id). The path of databases other than PostgreSQL."""
    fields = {f.attname for f in Interaction._meta.concrete_fields} - {"metadata"}
    made = Interaction.objects.bulk_create(
        [
            Interaction(
                **{k: v for k, v in r._asdict().items() if k in fields},
                metadata=r.metadata or {},
            )
            for r in rows
        ]
    )
    return {(i.source, i.external_id): i.pk for i in made}


# PostgreSQL: the items go to the statement of _resolving_sql() from COPY_FROM rows on by COPY
# into a temporary table (no parameters to convert one by one on the client), below as array
# parameters (no table to create). The columns and their SQL types, in the order of
# _staged_values():
_STAGED = {
    "n": "integer",
    "customer_id": "bigint",
    "customer_external_id": "text",
    "touchpoint_id": "bigint",
    "touchpoint_slug": "text",
    "occurred_at": "timestamptz",
    "source": "text",
    "external_id": "text",
    "order_ref": "text",
    "amount": "numeric",
    "currency": "text",
    "metadata": "jsonb",
}
# The interaction's own columns among them, in the same order.
_INSERTED = tuple(
    name for name in _STAGED if name in {f.attname for f in Interaction._meta.concrete_fields}
)


def _staged_values(n: int, r: InteractionInput) -> tuple[Any, ...]:
    return (
        n,
        r.customer_id,
        r.customer_external_id,
        r.touchpoint_id,
        r.touchpoint_slug,
        r.occurred_at,
        r.source,
        r.external_id,
        r.order_ref,
        r.amount,
        r.currency,
        json.dumps(r.metadata or {}),
    )


def _resolving_sql(source: str) -> str:
    """One statement over the staged items ``source`` (a table or a function, aliased
    ``s``): each item's customer and touchpoint looked up by id or by external id / slug (a
    sub-select each: an index look-up per item, whatever the planner thinks of the staging
    table's size), the batch inserted in item order unless a reference is missing, rows
    already stored skipped; for every item its number, the ids its references resolved to
    (NULL: not found) and the id of the row inserted for its (source, external_id), if one
    was."""
    quote = connection.ops.quote_name
    customers = quote(Customer._meta.db_table)
    touchpoints = quote(Touchpoint._meta.db_table)
    table = quote(Interaction._meta.db_table)
    names = ", ".join(_INSERTED)
    return f"""
        WITH src AS MATERIALIZED (
            SELECT s.n, s.occurred_at, s.source, s.external_id, s.order_ref, s.amount,
                s.currency, s.metadata,
                coalesce(
                    (SELECT c.id FROM {customers} c WHERE c.id = s.customer_id),
                    (SELECT c.id FROM {customers} c WHERE c.external_id = s.customer_external_id)
                ) AS customer_id,
                coalesce(
                    (SELECT t.id FROM {touchpoints} t WHERE t.id = s.touchpoint_id),
                    (SELECT t.id FROM {touchpoints} t WHERE t.slug = s.touchpoint_slug)
                ) AS touchpoint_id
            FROM {source}
        ), inserted AS (
            INSERT INTO {table} ({names}, created_at)
            SELECT {names}, %s FROM src
            WHERE NOT EXISTS (SELECT FROM src WHERE customer_id IS NULL OR touchpoint_id IS NULL)
            ORDER BY n
            ON CONFLICT (source, external_id) DO NOTHING
            RETURNING source, external_id, id
        )
        SELECT src.n, src.customer_id, src.touchpoint_id, inserted.id
        FROM src LEFT JOIN inserted
            ON inserted.source = src.source AND inserted.external_id = src.external_id
    """


def _insert_resolving(
    items: Sequence[InteractionInput],
) -> tuple[dict[tuple[str, str], int], list[NewInteraction]]:
    """PostgreSQL: resolve the references and insert the new interactions in one statement;
    the ids inserted by (source, external_id), and the interactions inserted (once each, in
    item order) for the survey rules. Raises UnknownReferences (nothing inserted) when a
    reference does not exist.

    Not bulk_create: psycopg converts a query's parameters one by one on the client, and for
    1,000 rows of ten columns that conversion cost as much as the insert."""
    if not items:
        return {}, []
    now = timezone.now()
    values = [_staged_values(n, item) for n, item in enumerate(items)]
    with connection.cursor() as cursor:
        if len(items) >= COPY_FROM:
            staging = f"cx_new_interactions_{uuid.uuid4().hex}"
            columns = ", ".join(f"{name} {kind}" for name, kind in _STAGED.items())
            # Dropped with the transaction (ON COMMIT DROP, or its rollback); the name is unique,
            # so a second batch in the same transaction makes its own.
            cursor.execute(f"CREATE TEMPORARY TABLE {staging} ({columns}) ON COMMIT DROP")
            # COPY is not an execute(): Django's query log does not see it.
            with cursor.cursor.copy(f"COPY {staging} FROM STDIN") as copy:
                for row_values in values:
                    copy.write_row(row_values)
            cursor.execute(_resolving_sql(f"{staging} AS s"), [now])
        else:
            arrays = ", ".join(
                "%s::text[]::jsonb[]" if kind == "jsonb" else f"%s::{kind}[]"
                for kind in _STAGED.values()
            )
            source = f"unnest({arrays}) AS s({', '.join(_STAGED)})"
            cursor.execute(
                _resolving_sql(source),
                [*(list(column) for column in zip(*values, strict=True)), now],
            )
        returned = cursor.fetchall()
    from feedback.services.invitations import NewInteraction

    errors: list[dict[str, list[str]]] = [{} for _ in items]
    # The first item of each (source, external_id) inserted: a repeat within the batch joins
    # the same inserted row.
    first: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for n, customer_id, touchpoint_id, pk in returned:
        if customer_id is None or touchpoint_id is None:
            found = (customer_id is not None, touchpoint_id is not None)
            errors[n] = _reference_errors(items[n], *found)
        elif pk is not None:
            key = (items[n].source, items[n].external_id)
            if key not in first or n < first[key][0]:
                first[key] = (n, pk, customer_id, touchpoint_id)
    if any(errors):
        raise UnknownReferences(errors)
    ids = {key: pk for key, (_, pk, _, _) in first.items()}
    recorded = [
        NewInteraction(pk, customer_id, touchpoint_id, items[n].occurred_at)
        for n, pk, customer_id, touchpoint_id in sorted(first.values())
    ]
    return ids, recorded
