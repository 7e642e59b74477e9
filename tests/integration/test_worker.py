"""A real Celery worker on Redis runs tasks that write to PostgreSQL; a task enqueued in a
rolled-back transaction never runs."""

from __future__ import annotations

import pytest
from django.db import transaction

from cxcrm.models import WorkerHeartbeat
from cxcrm.tasks import heartbeat
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_on_redis_writes_to_postgresql(celery_worker, redis_broker) -> None:  # type: ignore[no-untyped-def]
    celery_worker(name="it")
    heartbeat.delay(label="first")

    row = wait_for(lambda: WorkerHeartbeat.objects.filter(hostname__endswith="/first").first())

    # The hostname comes from the worker process, so the task ran there, not eagerly here.
    assert row.hostname.startswith("it@")
    assert row.beats == 1


def test_task_enqueued_in_rolled_back_transaction_never_runs(celery_worker, redis_broker) -> None:  # type: ignore[no-untyped-def]
    celery_worker(name="it")

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        heartbeat.delay_on_commit(label="rolled-back")
        raise Rollback

    # Nothing reached the broker...
    assert redis_broker.llen("cxcrm") == 0
    # ...and a task enqueued after it runs, while the rolled-back one never does. The solo
    # worker runs its queue in order, so once "after" ran, nothing earlier is pending.
    with transaction.atomic():
        heartbeat.delay_on_commit(label="after")
    wait_for(lambda: WorkerHeartbeat.objects.filter(hostname__endswith="/after").exists())
    assert not WorkerHeartbeat.objects.filter(hostname__endswith="/rolled-back").exists()
