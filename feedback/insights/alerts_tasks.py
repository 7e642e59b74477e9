"""The hourly alert evaluation (CELERY_BEAT_SCHEDULE "insights-alerts")."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from feedback.insights.alerts import alerts_evaluate
from feedback.insights.alerts_notify import alert_chat_send
from feedback.insights.models import InsightAlert

# An alert whose chat task was never run (broker down at commit) or gave up is tried again
# by the next evaluation once it is this old, for a day: after that it is history.
CHAT_RETRY_AFTER = timedelta(minutes=30)
CHAT_RETRY_UNTIL = timedelta(days=1)


@shared_task(name="insights.alerts_evaluate", soft_time_limit=600, time_limit=660, max_retries=0)
def evaluate_alerts() -> dict[str, int]:
    result = alerts_evaluate()
    now = timezone.now()
    unsent = InsightAlert.objects.filter(
        notified_at__isnull=True,
        raised_at__lt=now - CHAT_RETRY_AFTER,
        raised_at__gte=now - CHAT_RETRY_UNTIL,
    ).values_list("id", flat=True)
    for alert_id in unsent:
        alert_chat_send.delay(alert_id)
    return {"raised": len(result.raised), "ongoing": result.ongoing, "ended": result.ended}
