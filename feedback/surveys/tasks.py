"""Celery tasks of the surveys: dispatch, reminders, expiry and the outbox. Thin: they take ids
or nothing, call a service, and are idempotent, bounded and enqueued after commit or by beat."""

from __future__ import annotations

import logging
import math

from celery import shared_task
from django.conf import settings

from cxcrm.mail import Outcome
from feedback.surveys.services.dispatch import (
    dispatch_error_note,
    invitations_dispatch,
    invitations_due_count,
    invitations_expire_due,
    invitations_release_stale,
    invitations_remind_due,
    retry_delay,
)
from feedback.surveys.services.sending import (
    outbound_email_give_up,
    outbound_email_send,
)

log = logging.getLogger(__name__)


@shared_task(name="feedback.dispatch_due", soft_time_limit=50, time_limit=60, max_retries=0)
def dispatch_due() -> dict[str, int]:
    """Beat, every CXCRM_DISPATCH_INTERVAL_SECONDS: recover stale claims and fan the backlog out
    to as many sending tasks as it needs (up to CXCRM_DISPATCH_PARALLEL), so every worker helps."""
    released = invitations_release_stale()
    due = invitations_due_count()
    batch = int(settings.CXCRM_DISPATCH_BATCH_SIZE)
    senders = min(int(settings.CXCRM_DISPATCH_PARALLEL), math.ceil(due / batch))
    # A sender not started by the next tick is superseded by that tick's senders: let it expire
    # instead of piling up behind a busy worker.
    expires = 2 * int(settings.CXCRM_DISPATCH_INTERVAL_SECONDS) + 5
    for _ in range(senders):
        send_due.apply_async(expires=expires)
    return {"released": released, "due": due, "senders": senders}


@shared_task(
    name="feedback.send_due",
    soft_time_limit=int(settings.CXCRM_DISPATCH_TIME_BUDGET) + 240,
    time_limit=int(settings.CXCRM_DISPATCH_TIME_BUDGET) + 300,
    max_retries=0,
)
def send_due() -> dict[str, int]:
    """Claim and send batches of due invitations until none are due or the budget is spent."""
    stats = invitations_dispatch()
    if stats.errors:
        log.warning("dispatch errors (first %d): %s", len(stats.errors), stats.errors)
        dispatch_error_note(stats.errors[-1])
    return {
        "claimed": stats.claimed,
        "sent": stats.sent,
        "deferred": stats.deferred,
        "failed": stats.failed,
    }


@shared_task(name="feedback.release_stale", soft_time_limit=50, time_limit=60, max_retries=0)
def release_stale() -> int:
    """Beat, every CXCRM_DISPATCH_RELEASE_INTERVAL_SECONDS, on the ``maintenance`` queue (a
    worker of its own): claims whose worker died come back when their lease ends, never later
    because every dispatch process is busy sending."""
    return invitations_release_stale()


@shared_task(name="feedback.remind_due", soft_time_limit=240, time_limit=300, max_retries=0)
def remind_due() -> int:
    return invitations_remind_due().sent


@shared_task(name="feedback.expire_due", soft_time_limit=50, time_limit=60, max_retries=0)
def expire_due() -> int:
    return invitations_expire_due()


@shared_task(
    bind=True, name="feedback.send_outbound", soft_time_limit=60, time_limit=90, max_retries=8
)
def send_outbound(self, email_id: int) -> str:  # type: ignore[no-untyped-def]
    result = outbound_email_send(email_id=email_id)
    if result is None:
        return "not queued"
    if result.outcome is Outcome.TRANSIENT:
        if self.request.retries >= self.max_retries:
            outbound_email_give_up(email_id=email_id, error=result.error)
            return "gave up"
        raise self.retry(countdown=retry_delay(self.request.retries + 1).total_seconds())
    return result.outcome.value
