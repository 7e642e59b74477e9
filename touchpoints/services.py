from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction

from customers.models import Customer
from customers.selectors import CustomerRef, customer_resolve_many
from cxcrm.catalogue import catalogue_delete, catalogue_update, catalogue_upsert
from cxcrm.errors import ServiceError
from touchpoints.models import Interaction, Touchpoint
from touchpoints.selectors import TouchpointRef, touchpoint_resolve_many
from touchpoints.signals import interactions_recorded

# What staff set on a touchpoint in the admin; the setup API sets the same.
TOUCHPOINT_FIELDS = (
    "name",
    "description",
    "stage",
    "channel",
    "ownership",
    "owner_team",
    "owner",
    "active",
)


def _touchpoint_fields(fields: dict[str, Any], *, slug: bool = False) -> dict[str, Any]:
    unknown = set(fields) - {*TOUCHPOINT_FIELDS, *(["slug"] if slug else [])}
    if unknown:
        raise ServiceError(f"Unknown touchpoint fields: {', '.join(sorted(unknown))}.")
    return fields


@transaction.atomic
def touchpoint_upsert(*, slug: str, **fields: Any) -> tuple[Touchpoint, bool]:
    """Create the touchpoint with this slug, or update the fields given. (touchpoint, created)."""
    return catalogue_upsert(Touchpoint, slug=slug, fields=_touchpoint_fields(fields))


@transaction.atomic
def touchpoint_update(*, touchpoint_id: int, **fields: Any) -> Touchpoint:
    touchpoint = Touchpoint.objects.select_for_update().get(pk=touchpoint_id)
    return catalogue_update(touchpoint, fields=_touchpoint_fields(fields, slug=True))


@transaction.atomic
def touchpoint_delete(*, touchpoint_id: int) -> None:
    """Delete an unused touchpoint; one with interactions, answers or tickets is kept."""
    catalogue_delete(
        Touchpoint.objects.get(pk=touchpoint_id),
        instead="deactivate it instead (active: false).",
    )


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
    new = NewInteraction(interaction.pk, customer.pk, touchpoint.pk, interaction.occurred_at)
    invited = _announce([new])
    return InteractionResult(interaction, created=True, invitations=invited.get(interaction.pk, 0))


class NewInteraction(NamedTuple):
    """What the survey rules need of a newly recorded interaction (no model instance: the bulk
    paths schedule from ids)."""

    id: int
    customer_id: int
    touchpoint_id: int
    occurred_at: datetime


def _announce(interactions: list[NewInteraction]) -> dict[int, int]:
    """Let the survey rules schedule what these new interactions trigger (same transaction);
    how many invitations each got."""
    invited: dict[int, int] = {}
    for _receiver, counts in interactions_recorded.send(
        sender=Interaction, interactions=interactions
    ):
        for pk, n in counts.items():
            invited[pk] = invited.get(pk, 0) + n
    return invited


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


def _customer_ref(item: InteractionInput) -> CustomerRef | None:
    return item.customer_id if item.customer_id is not None else item.customer_external_id


def _touchpoint_ref(item: InteractionInput) -> TouchpointRef | None:
    return item.touchpoint_id if item.touchpoint_id is not None else item.touchpoint_slug


def interaction_references_resolve(
    items: Sequence[InteractionInput],
) -> tuple[list[InteractionInput], list[dict[str, list[str]]]]:
    """The items with their customer and touchpoint ids filled in, in two queries, and the
    errors of those whose references do not exist (aligned with the items). Reads only."""
    customer_refs = {_customer_ref(i) for i in items} - {None}
    touchpoint_refs = {_touchpoint_ref(i) for i in items} - {None}
    # Only the ids are used: no full rows of a thousand customers.
    customers = customer_resolve_many(customer_refs, only=())  # type: ignore[arg-type]
    touchpoints = touchpoint_resolve_many(touchpoint_refs, only=())  # type: ignore[arg-type]
    resolved: list[InteractionInput] = []
    errors: list[dict[str, list[str]]] = []
    for item in items:
        customer = customers.get(_customer_ref(item))  # type: ignore[arg-type]
        touchpoint = touchpoints.get(_touchpoint_ref(item))  # type: ignore[arg-type]
        errors.append(_reference_errors(item, customer is not None, touchpoint is not None))
        resolved.append(
            item._replace(
                customer_id=customer.pk if customer is not None else None,
                touchpoint_id=touchpoint.pk if touchpoint is not None else None,
            )
        )
    return resolved, errors


@transaction.atomic
def interactions_record_bulk(*, items: Sequence[InteractionInput]) -> list[BulkResult]:
    """``interaction_record`` for many interactions in one transaction and a fixed number of
    queries: existing (source, external_id) pairs are returned as they are, new ones are
    inserted together (``bulk_create``), and the survey rules run once over the batch
    (the ``interactions_recorded`` receivers: the same decisions as one by one). An event repeated
    within the batch is recorded once. Results are in the order of ``items``. Raises
    ``UnknownReferences`` (and writes nothing) if an item names a customer or a touchpoint
    that does not exist.

    If a concurrent request inserts one of the same events between the look-up and the
    insert, the insert fails on the unique constraint and the batch is recorded one by one
    instead, which resolves each race the way ``interaction_record`` does.
    """
    for item in items:
        if not item.source or not item.external_id:
            raise ValueError("source and external_id are required.")
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
    invited = _announce(recorded)
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
    external_id)."""
    made = Interaction.objects.bulk_create(
        [
            Interaction(
                customer_id=r.customer_id,
                touchpoint_id=r.touchpoint_id,
                occurred_at=r.occurred_at,
                source=r.source,
                external_id=r.external_id,
                order_ref=r.order_ref,
                amount=r.amount,
                currency=r.currency,
                metadata=r.metadata or {},
            )
            for r in rows
        ]
    )
    return {(i.source, i.external_id): i.pk for i in made}
