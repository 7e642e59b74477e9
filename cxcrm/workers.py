"""Worker liveness that does not need the database: each Celery worker's main process writes
its last heartbeat to the cache (Celery's ``heartbeat_sent`` signal, every two seconds), so the
admin's system status shows which workers are alive even while the database is down. The beat's
heartbeat task (cxcrm.tasks.heartbeat) says the other half: that a worker can run tasks and
reach the database."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery.signals import heartbeat_sent
from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)

WORKERS_KEY = "cxcrm:workers:beats"
# Forget a worker not heard of for a day (renamed or removed hosts).
FORGET_AFTER_SECONDS = 86400


def worker_beat_record(*, hostname: str, now: datetime | None = None) -> None:
    """Write one worker's beat into the shared map {hostname: ISO time}. Two workers beating at
    once may lose one write; the next beat, two seconds later, puts it back."""
    now = now or timezone.now()
    beats: dict[str, str] = cache.get(WORKERS_KEY) or {}
    beats[hostname[:255]] = now.isoformat()
    cutoff = now.timestamp() - FORGET_AFTER_SECONDS
    beats = {h: at for h, at in beats.items() if datetime.fromisoformat(at).timestamp() > cutoff}
    cache.set(WORKERS_KEY, beats, timeout=FORGET_AFTER_SECONDS)


def worker_beats() -> list[tuple[str, datetime]]:
    """Each worker's last beat, most recent first."""
    beats: dict[str, str] = cache.get(WORKERS_KEY) or {}
    seen = [(host, datetime.fromisoformat(at)) for host, at in beats.items()]
    return sorted(seen, key=lambda item: item[1], reverse=True)


@heartbeat_sent.connect
def _heartbeat_sent(sender: Any, **kwargs: Any) -> None:
    # sender is the worker's Heart; its event dispatcher knows the node name (dispatch@host).
    hostname = str(getattr(getattr(sender, "eventer", None), "hostname", "") or "unknown")
    try:
        worker_beat_record(hostname=hostname)
    except Exception:  # a liveness note must never disturb the worker
        log.exception("could not record the worker's heartbeat")
