"""Configuring surveys (the setup API; the admin saves the same model through its form). The
rules a survey must keep — texts per supported language with their required keys, follow-ups
per category of its kind, ticket categories of its kind — live in Survey.clean, which both
doors run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from cxcrm.catalogue import catalogue_delete, catalogue_update, catalogue_upsert
from cxcrm.errors import ServiceError
from feedback.surveys.models import Survey
from touchpoints.models import Touchpoint

# What staff set on a survey in the admin (SurveyAdmin.fieldsets), besides its trigger
# touchpoints (a many-to-many, set after the row is saved).
SURVEY_FIELDS = (
    "name",
    "kind",
    "active",
    "default_language",
    "trigger_stage",
    "sample_percent",
    "delay",
    "reminder_after_days",
    "expires_after_days",
    "contact_frequency_days",
    "texts",
    "loop_enabled",
    "ticket_categories",
    "sla_hours",
    "acknowledge_customer",
)


def _checked(fields: dict[str, Any], *, slug: bool = False) -> dict[str, Any]:
    unknown = set(fields) - {*SURVEY_FIELDS, *(["slug"] if slug else [])}
    if unknown:
        raise ServiceError(f"Unknown survey fields: {', '.join(sorted(unknown))}.")
    return fields


def _set_triggers(touchpoints: Sequence[Touchpoint] | None) -> Any:
    if touchpoints is None:
        return None
    return lambda survey: survey.trigger_touchpoints.set(touchpoints)


@transaction.atomic
def survey_upsert(
    *, slug: str, trigger_touchpoints: Sequence[Touchpoint] | None = None, **fields: Any
) -> tuple[Survey, bool]:
    """Create the survey with this slug, or update the fields given (``trigger_touchpoints``
    replaces the set when given). Returns (survey, created)."""
    return catalogue_upsert(
        Survey, slug=slug, fields=_checked(fields), after_save=_set_triggers(trigger_touchpoints)
    )


@transaction.atomic
def survey_update(
    *, survey_id: int, trigger_touchpoints: Sequence[Touchpoint] | None = None, **fields: Any
) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey_id)
    return catalogue_update(
        survey, fields=_checked(fields, slug=True), after_save=_set_triggers(trigger_touchpoints)
    )


@transaction.atomic
def survey_delete(*, survey_id: int) -> None:
    """Delete a survey nobody was invited to; one with invitations or answers is kept."""
    catalogue_delete(
        Survey.objects.get(pk=survey_id), instead="deactivate it instead (active: false)."
    )
