"""Writes shared by the catalogues staff configure (touchpoints, surveys, root causes): create
or update by slug, update, and delete unless in use. Domain-free: each app's services call
these with its model, so every catalogue follows the same rules whichever door it comes in by.

Every write runs the model's full validation (``full_clean``: field validators, ``clean()``,
uniqueness), which is what the admin's ModelForm runs too: one rule, two doors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

from cxcrm.errors import InUseError, ServiceError

M = TypeVar("M", bound=models.Model)
AfterSave = Callable[[Any], None]


def _apply(row: M, fields: Mapping[str, Any], after_save: AfterSave | None) -> M:
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    if after_save is not None:
        after_save(row)  # many-to-many fields: they need the row's id
    return row


def catalogue_upsert(
    model: type[M],
    *,
    slug: str,
    fields: Mapping[str, Any],
    after_save: AfterSave | None = None,
) -> tuple[M, bool]:
    """Create the row with this slug, or update the fields given on the existing one.
    Returns (row, created). Call inside a transaction (the row is locked while updated)."""
    if not transaction.get_connection().in_atomic_block:
        raise ServiceError("catalogue_upsert must run inside a transaction.")
    row = model._default_manager.select_for_update().filter(slug=slug).first()
    if row is not None:
        return _apply(row, fields, after_save), False
    try:
        # Two requests creating the same slug race here; the unique index decides, and the
        # loser updates the winner's row as if it had come second.
        with transaction.atomic():
            return _apply(model(slug=slug), fields, after_save), True
    except IntegrityError:
        row = model._default_manager.select_for_update().filter(slug=slug).first()
        if row is None:
            raise
        return _apply(row, fields, after_save), False


def catalogue_update(
    row: M, *, fields: Mapping[str, Any], after_save: AfterSave | None = None
) -> M:
    """Update the fields given (a PATCH); the others keep their values."""
    return _apply(row, fields, after_save)


def catalogue_delete(row: models.Model, *, instead: str) -> None:
    """Delete the row, or refuse with InUseError when rows that must be kept point at it
    (``on_delete=PROTECT``); ``instead`` tells the caller what to do rather than delete."""
    label = str(row._meta.verbose_name)
    try:
        with transaction.atomic():
            row.delete()
    except ProtectedError as exc:
        used_by = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise InUseError(
            f"This {label} is in use ({', '.join(used_by)} refer to it) and cannot be deleted; "
            f"{instead}"
        ) from None
