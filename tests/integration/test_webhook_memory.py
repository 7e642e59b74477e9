"""A webhook receiver cannot exhaust a worker's memory (issue 15, item 7): a real Celery worker
process delivers to a receiver that answers with 50 MB, and its peak resident memory barely
moves, while the delivery log keeps the start of the reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cxcrm.models import DeliveryStatus, WebhookDelivery
from cxcrm.webhooks.events import event_publish
from cxcrm.webhooks.sending import RESPONSE_BODY_CHARS
from cxcrm.webhooks.services import webhook_endpoint_create
from tests.integration.conftest import wait_for
from tests.webhook_receiver import ALPHABET, webhook_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVENT = "ticket.updated"
MiB = 2**20
REPLY_BYTES = 50 * MiB
ALLOWED_GROWTH = 64 * MiB


def _memory(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak of resident so far) of a process, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024  # reported in kB
    return fields


def _delivered(delivery_id: int) -> WebhookDelivery | None:
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    return delivery if delivery and delivery.response_code else None


def test_a_50_mb_reply_does_not_grow_the_worker(celery_worker: Any) -> None:
    with webhook_receiver() as receiver:
        # The solo pool runs each task in the worker's own process: its pid is the one to watch.
        worker = celery_worker(
            name="hooks", queues="webhooks", env={"CXCRM_WEBHOOK_ALLOW_PRIVATE": "true"}
        )
        webhook_endpoint_create(url=receiver.url, events=[EVENT])
        # A first, small delivery: imports and the first connection go into the baseline.
        event_publish(
            EVENT, {"id": 0}, subject=""
        )  # committed at once (transactional test): enqueued
        warm = WebhookDelivery.objects.get()
        wait_for(lambda: _delivered(warm.pk), timeout=60)
        before = _memory(worker.process.pid)

        receiver.reply_bytes = REPLY_BYTES
        event_publish(EVENT, {"id": 1}, subject="")
        big = WebhookDelivery.objects.exclude(pk=warm.pk).get()
        delivery = wait_for(lambda: _delivered(big.pk), timeout=60)
        after = _memory(worker.process.pid)

    assert isinstance(delivery, WebhookDelivery)
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.SUCCEEDED, 200)
    assert len(receiver.requests) == 2
    # The peak, not only the memory left afterwards: a body read whole and freed again shows.
    grew = after["VmHWM"] - before["VmHWM"]
    print("MEM", before, after, receiver.sent)
    assert grew < ALLOWED_GROWTH, f"peak RSS grew by {grew / MiB:.1f} MiB ({before} → {after})"
    assert after["VmRSS"] - before["VmRSS"] < ALLOWED_GROWTH
    start = (ALPHABET * (RESPONSE_BODY_CHARS // len(ALPHABET) + 1)).decode()
    assert delivery.response_body == start[:RESPONSE_BODY_CHARS]
    # The worker hung up early: most of the 50 MB never left the receiver.
    assert receiver.sent < REPLY_BYTES // 2
