"""Celery tasks of the ticket loop: open tickets for unhappy answers, escalate breaches, sweep
up what a lost enqueue left behind. Thin, idempotent, bounded."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from feedback.surveys.services.sending import (
    outbound_emails_stuck,
)
from feedback.surveys.tasks import send_outbound
from feedback.tickets.selectors import responses_missing_ticket
from feedback.tickets.services import ticket_sync_for_response, tickets_escalate_breached


@shared_task(name="feedback.ticket_for_response", soft_time_limit=60, time_limit=90, max_retries=3)
def ticket_for_response(response_id: int) -> str:
    """Open or update the ticket an answer calls for (enqueued after the answer commits)."""
    return ticket_sync_for_response(response_id=response_id).action


@shared_task(name="feedback.escalate_breached", soft_time_limit=120, time_limit=150, max_retries=0)
def escalate_breached() -> int:
    return tickets_escalate_breached()


@shared_task(name="feedback.loop_sweep", soft_time_limit=240, time_limit=300, max_retries=0)
def loop_sweep() -> dict[str, int]:
    """Catch up work whose after-commit enqueue was lost (broker down): queued emails and
    unhappy answers still without a ticket."""
    emails = outbound_emails_stuck(
        never_tried_for=timedelta(minutes=5), retrying_for=timedelta(hours=6)
    )
    for email_id in emails:
        send_outbound.delay(email_id)
    responses = responses_missing_ticket(older_than=timedelta(minutes=5))
    for response_id in responses:
        ticket_sync_for_response(response_id=response_id)
    return {"emails": len(emails), "tickets": len(responses)}
