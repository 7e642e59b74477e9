from __future__ import annotations

from celery import shared_task

from cxcrm.services import heartbeat_record


@shared_task(
    bind=True, name="cxcrm.tasks.heartbeat", max_retries=0, soft_time_limit=20, time_limit=30
)
def heartbeat(self, label: str = "") -> int:  # type: ignore[no-untyped-def]
    """Record that a worker is alive. ``label`` lets a caller tell its own beat apart."""
    hostname = self.request.hostname or "eager"
    if label:
        hostname = f"{hostname}/{label}"
    return heartbeat_record(hostname=hostname[:255]).beats
