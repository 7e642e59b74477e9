"""Reads of the feedback app."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from feedback.models import Invitation, InvitationPurpose, Response


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a public link names, or None. Malformed tokens never reach the database."""
    if not token or len(token) > 64 or not all(c.isalnum() or c in "-_" for c in token):
        return None
    return Invitation.objects.select_related("customer", "survey").filter(token=token).first()


def responses_missing_ticket(
    *, older_than: timedelta, window: timedelta = timedelta(days=3)
) -> list[int]:
    """Recent answers in their survey's loop categories that have no ticket yet."""
    now = timezone.now()
    candidates = (
        Response.objects.filter(
            ticket__isnull=True,
            submitted_at__lt=now - older_than,
            submitted_at__gte=now - window,
        )
        .exclude(invitation__purpose=InvitationPurpose.FOLLOWUP)
        .select_related("survey")
        .only("id", "category", "survey__loop_enabled", "survey__ticket_categories", "survey__kind")
    )
    return [r.pk for r in candidates[:2000] if r.category in r.survey.loop_categories]
