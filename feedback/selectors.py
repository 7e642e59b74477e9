"""Reads of the feedback app."""

from __future__ import annotations

from feedback.models import Invitation


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a public link names, or None. Malformed tokens never reach the database."""
    if not token or len(token) > 64 or not all(c.isalnum() or c in "-_" for c in token):
        return None
    return Invitation.objects.select_related("customer", "survey").filter(token=token).first()
