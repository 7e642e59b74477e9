"""Enqueueing tasks after commit without letting a broker outage break the request.

The database is the queue of record: every task enqueued this way has a beat sweep that finds
its work again from the database, so a failed enqueue is logged and caught up later instead of
turning a committed request into an error."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

log = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any) -> bool:
    try:
        task.apply_async(args=args, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure; the sweep catches up
        log.warning("could not enqueue %s%r (%s); its sweep will catch up", task.name, args, exc)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))
