"""Celery tasks of comment intelligence: enrich pending rows in batches, the beat sweep that
finds rows a lost enqueue left pending, and the sentiment model's adaptation. Thin, idempotent
(a row enriched twice gets the same values), bounded (batches, a time budget)."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from cxcrm.tasking import enqueue
from feedback.insights import selectors, services

# While set, an enrichment task is queued and not yet started: more texts need no other one.
QUEUED_KEY = "insights:enrich-queued"
BUDGET_SECONDS = 240


def _enqueue_once() -> None:
    # A cache key rather than one task per text: a bulk write (an import, a busy minute of
    # answers) queues one task, which takes every pending row. If the key outlives a lost
    # task, the beat sweep catches up.
    queued = cache.add(QUEUED_KEY, 1, timeout=int(settings.CXCRM_INSIGHTS_SWEEP_SECONDS))
    if queued and not enqueue(enrich_pending):
        cache.delete(QUEUED_KEY)


def enrich_soon() -> None:
    """Enrich what is pending after the current transaction commits (never in it)."""
    transaction.on_commit(_enqueue_once)


@shared_task(
    name="feedback.insights_enrich",
    soft_time_limit=BUDGET_SECONDS + 50,
    time_limit=BUDGET_SECONDS + 60,
    max_retries=0,
)
def enrich_pending(max_batches: int = 0) -> int:
    """Enrich pending rows a batch at a time (ids, ``CXCRM_INSIGHTS_BATCH`` per batch, one
    embedding call each) until none is left or the time budget is spent; then, if some are
    still pending, queue the next run. Returns the rows written."""
    cache.delete(QUEUED_KEY)
    batch = int(settings.CXCRM_INSIGHTS_BATCH)
    setup = services.enrichment_setup()
    started = time.monotonic()
    written, batches, cut_short = 0, 0, False
    # New texts first (someone waits for them), then rows of an older version.
    for stale in (False, True):
        after = 0
        while True:
            if time.monotonic() - started > BUDGET_SECONDS or (
                max_batches and batches >= max_batches
            ):
                cut_short = True
                break
            ids = selectors.insights_pending_ids(
                version=setup.version, limit=batch, after=after, stale=stale
            )
            if not ids:
                break
            written += services.insights_enrich(ids=ids, setup=setup)
            # Keyset: a row left pending (its text changed meanwhile) waits for the next
            # run rather than being read again and again in this one.
            after = ids[-1]
            batches += 1
    if cut_short and selectors.insights_pending_ids(version=setup.version, limit=1):
        _enqueue_once()
    return written


@shared_task(name="feedback.insights_sweep", soft_time_limit=50, time_limit=60, max_retries=0)
def insights_sweep() -> bool:
    """Beat: queue an enrichment when rows wait (a broker outage lost the enqueue, or the
    taxonomy changed)."""
    setup = services.enrichment_setup()
    if not selectors.insights_pending_ids(version=setup.version, limit=1):
        return False
    _enqueue_once()
    return True


@shared_task(
    name="feedback.insights_train_sentiment",
    soft_time_limit=1700,
    time_limit=1800,
    max_retries=0,
)
def train_sentiment() -> int:
    """Beat (daily): adapt the sentiment model to the scored comments; rows are enriched
    again with it (their version changes)."""
    trained = services.sentiment_train()
    if trained:
        _enqueue_once()
    return trained
