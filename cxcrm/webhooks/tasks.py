"""Celery tasks of outgoing webhooks, routed to their own ``webhooks`` queue
(CELERY_TASK_ROUTES) so a slow receiver never delays survey dispatch on ``cxcrm``."""

from __future__ import annotations

from celery import shared_task

from cxcrm.webhooks.services import retry_schedule, webhook_deliver, webhook_deliveries_stuck


@shared_task(
    bind=True,
    name="webhooks.deliver",
    soft_time_limit=60,
    time_limit=90,
    # Bounded by the schedule (CXCRM_WEBHOOK_RETRY_SCHEDULE); the attempt count on the row is
    # what decides, so a redelivered message cannot retry forever either.
    max_retries=20,
)
def deliver_webhook(self, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    attempt = webhook_deliver(delivery_id=delivery_id)
    if attempt is None:
        return "not pending"
    if attempt.retry_in is not None and self.request.retries < len(retry_schedule()):
        raise self.retry(countdown=attempt.retry_in)
    return attempt.status


@shared_task(name="webhooks.sweep", soft_time_limit=50, time_limit=60, max_retries=0)
def sweep_webhooks() -> int:
    ids = webhook_deliveries_stuck()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)
