"""What moves the rollups' figures. The parts below reporting announce their writes through
signals (it may import them, they may not import it); each receiver marks the days touched, in
the writer's transaction, and refreshes them after commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.dispatch import receiver

from customers.signals import customer_segment_changed
from cxcrm.tasking import enqueue_on_commit
from feedback.reporting.rollups import rollups_mark, rollups_mark_customer
from feedback.reporting.tasks import rollups_refresh
from feedback.surveys.signals import figures_changed, invitation_sent, response_changed
from feedback.tickets.signals import ticket_changed


def _refresh_after_commit(days: Iterable[date]) -> None:
    for day in days:
        enqueue_on_commit(rollups_refresh, day.isoformat())


def rollups_touch(*, moments: Iterable[datetime | None]) -> None:
    """Mark the days of these moments and refresh them after commit."""
    _refresh_after_commit(rollups_mark(moments=moments))


@receiver(response_changed, dispatch_uid="reporting-rollups-response")
def _response_changed(sender: Any, response: Any, **kwargs: Any) -> None:
    # The answer's day, and the day its invitation was sent (the response rate's answered).
    invitation = response.invitation if response.invitation_id else None
    rollups_touch(moments=[response.submitted_at, invitation.sent_at if invitation else None])


@receiver(invitation_sent, dispatch_uid="reporting-rollups-invitation-sent")
def _invitation_sent(sender: Any, invitation_id: int, sent_at: datetime, **kwargs: Any) -> None:
    rollups_touch(moments=[sent_at])


@receiver(customer_segment_changed, dispatch_uid="reporting-rollups-segment")
def _segment_changed(sender: Any, customer_id: int, **kwargs: Any) -> None:
    _refresh_after_commit(rollups_mark_customer(customer_id=customer_id))


@receiver(ticket_changed, dispatch_uid="reporting-rollups-ticket")
def _ticket_changed(sender: Any, created_at: datetime, **kwargs: Any) -> None:
    rollups_touch(moments=[created_at])


@receiver(figures_changed, dispatch_uid="reporting-rollups-figures")
def _figures_changed(sender: Any, moments: Iterable[datetime | None], **kwargs: Any) -> None:
    rollups_touch(moments=moments)
