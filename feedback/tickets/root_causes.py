"""Services of the root-cause list (tickets/services.py holds the ticket lifecycle): create or
update by slug, update, and delete one no ticket was resolved with."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from cxcrm.catalogue import catalogue_delete, catalogue_update, catalogue_upsert
from cxcrm.errors import ServiceError
from feedback.tickets.models import RootCause

ROOT_CAUSE_FIELDS = ("name", "description", "active")


def _checked(fields: dict[str, Any], *, slug: bool = False) -> dict[str, Any]:
    unknown = set(fields) - {*ROOT_CAUSE_FIELDS, *(["slug"] if slug else [])}
    if unknown:
        raise ServiceError(f"Unknown root cause fields: {', '.join(sorted(unknown))}.")
    return fields


@transaction.atomic
def root_cause_upsert(*, slug: str, **fields: Any) -> tuple[RootCause, bool]:
    return catalogue_upsert(RootCause, slug=slug, fields=_checked(fields))


@transaction.atomic
def root_cause_update(*, root_cause_id: int, **fields: Any) -> RootCause:
    root_cause = RootCause.objects.select_for_update().get(pk=root_cause_id)
    return catalogue_update(root_cause, fields=_checked(fields, slug=True))


@transaction.atomic
def root_cause_delete(*, root_cause_id: int) -> None:
    """Delete a root cause no ticket names; one in use is kept (it explains resolved tickets)."""
    catalogue_delete(
        RootCause.objects.get(pk=root_cause_id), instead="deactivate it instead (active: false)."
    )
