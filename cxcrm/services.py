from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cxcrm.models import WorkerHeartbeat


@transaction.atomic
def heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    """Upsert this worker's heartbeat; the counter increments in SQL so concurrent beats add up."""
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(
        seen_at=now, beats=F("beats") + 1
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            hostname=hostname, defaults={"seen_at": now, "beats": 1}
        )
    return WorkerHeartbeat.objects.get(hostname=hostname)
