"""Reads of surveys, invitations and answers for the API: what each list joins is decided
here, so the number of queries of a page never depends on its length."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from feedback.surveys.models import Invitation, Response, Survey
from touchpoints.models import Touchpoint


def surveys_visible_to(principal: Any) -> QuerySet[Survey]:
    if principal is None:
        return Survey.objects.none()
    return Survey.objects.prefetch_related(
        Prefetch("trigger_touchpoints", queryset=Touchpoint.objects.only("id", "slug"))
    )


def invitations_visible_to(principal: Any) -> QuerySet[Invitation]:
    if principal is None:
        return Invitation.objects.none()
    # The token is a bearer credential for answering as the customer: never selected.
    return Invitation.objects.defer("token", "last_error")


def responses_visible_to(principal: Any) -> QuerySet[Response]:
    if principal is None:
        return Response.objects.none()
    # The reverse one-to-one to the ticket is joined so each row can name its ticket.
    return Response.objects.select_related("ticket").defer("history")
