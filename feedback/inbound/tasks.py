"""Celery tasks of inbound mail: read one stored message, and the sweep that finds the ones a
lost enqueue or a killed worker left "received". Thin, idempotent, bounded."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from feedback.inbound.services import inbound_email_process, inbound_emails_stuck

# The reading budget, plus room for matching and recording.
BUDGET = int(settings.CXCRM_INBOUND_TIME_BUDGET_SECONDS)


@shared_task(
    name="feedback.process_inbound_email",
    soft_time_limit=BUDGET + 40,
    time_limit=BUDGET + 60,
    max_retries=0,
)
def process_inbound_email(inbound_email_id: int) -> str:
    """Enqueued after the webhook's row commits; a retry is the sweep's job (it counts)."""
    return str(inbound_email_process(inbound_email_id=inbound_email_id).status)


@shared_task(name="feedback.inbound_sweep", soft_time_limit=50, time_limit=60, max_retries=0)
def inbound_sweep() -> int:
    ids = inbound_emails_stuck()
    for inbound_email_id in ids:
        process_inbound_email.delay(inbound_email_id)
    return len(ids)
