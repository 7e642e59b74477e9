"""Reads of surveys: the invitation a survey link names, with what its pages show."""

from __future__ import annotations

from typing import NamedTuple

from feedback.surveys.models import (
    Invitation,
    Response,
)


def _well_formed(token: str) -> bool:
    # At most the column's 64 characters, letters and digits (str.isalnum()), "-" and "_".
    if not 0 < len(token) <= 64:
        return False
    rest = token.replace("-", "").replace("_", "")
    return rest == "" or rest.isalnum()


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a public link names, or None. Malformed tokens never reach the database."""
    if not _well_formed(token):
        return None
    return Invitation.objects.select_related("customer", "survey").filter(token=token).first()


class SurveyLink(NamedTuple):
    """An invitation as the survey pages read it: with its survey and customer attached, and
    its answer (None: not answered yet)."""

    invitation: Invitation
    response: Response | None


# What the survey, follow-up, thanks and closed pages read (feedback/surveys/views.py); any other
# field of these instances is deferred and costs a query of its own.
SURVEY_LINK_FIELDS = (
    "id",
    "survey_id",
    "customer_id",
    "token",
    "state",
    "expires_at",
    "survey__id",
    "survey__kind",
    "survey__default_language",
    "survey__texts",
    "customer__id",
    "customer__phone",
    "customer__language",
    "response__id",
    "response__invitation_id",
    "response__score",
    "response__category",
    "response__comment",
)


def survey_link(token: str) -> SurveyLink | None:
    """The invitation a survey link names, with its survey, customer and answer joined in
    one query; None for an unknown or malformed token."""
    if not _well_formed(token):
        return None
    # get(), not first(): the token is unique, and first()'s ORDER BY costs compiling.
    try:
        invitation = (
            Invitation.objects.select_related("survey", "customer", "response")
            .only(*SURVEY_LINK_FIELDS)
            .get(token=token)
        )
    except Invitation.DoesNotExist:
        return None
    # select_related caches a missing reverse one-to-one too: no query either way.
    response = invitation.response if hasattr(invitation, "response") else None
    return SurveyLink(invitation, response)
