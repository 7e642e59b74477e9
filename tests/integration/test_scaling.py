"""Queue isolation, as README "Scaling" arranges the workers: a backlog of webhook deliveries
to a receiver that hangs does not delay survey dispatch.

Real parts only: PostgreSQL, Redis, aiosmtpd, a loopback HTTP receiver that holds every request
(as a receiver that hangs until the client's time-out does), and real processes: one
`celery worker -Q cxcrm` (dispatch), one `celery worker -Q webhooks` and `celery beat`. 600
deliveries are queued and every webhook pool process is stuck on the receiver when 100
purchases are recorded; every survey email must arrive while that is still so. With one worker
consuming both queues (the Procfile's `-Q cxcrm,webhooks`) its pool would be held by the
receiver and no email could leave; here none of the webhook processes is needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from customers.models import Customer
from cxcrm.models import DeliveryStatus, WebhookDelivery
from cxcrm.webhooks.event_types import TICKET_UPDATED
from cxcrm.webhooks.events import event_publish
from cxcrm.webhooks.services import webhook_endpoint_create
from feedback.surveys.models import Invitation, InvitationState, Survey
from tests.integration.conftest import wait_for
from tests.smtp import SmtpSink
from tests.webhook_receiver import Receiver, webhook_receiver
from touchpoints.models import Touchpoint
from touchpoints.services import interaction_record

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BACKLOG = 600  # webhook deliveries queued ahead of the purchases
PURCHASES = 100
WEBHOOK_CONCURRENCY = 4  # the Procfile's default worker concurrency
DISPATCH_CONCURRENCY = 2
# The webhook worker waits up to 55 s for an answer (CXCRM_WEBHOOK_TIMEOUT_SECONDS, within the
# task's 60 s soft limit); the receiver holds each request 50 s unless released sooner, longer
# than recording the purchases and sending their emails can take here.
WEBHOOK_TIMEOUT = 55
RECEIVER_HOLD = 50.0


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def hanging_receiver() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        receiver.delay = RECEIVER_HOLD
        receiver.otherwise = 500
        yield receiver


def test_webhook_backlog_does_not_delay_survey_dispatch(
    smtp: SmtpSink, hanging_receiver: Receiver, celery_worker
) -> None:  # type: ignore[no-untyped-def]
    # The receiver and the SMTP server are set up before the workers so that they outlive them.
    checkout = Touchpoint.objects.create(
        name="Checkout", slug="checkout", stage="order", channel="web"
    )
    Survey.objects.create(
        name="NPS after purchase",
        slug="nps-after-purchase",
        kind="nps",
        trigger_stage="order",
        delay=timedelta(0),
        texts={"en": {"subject": "How was your order?"}},
    )
    customers = Customer.objects.bulk_create(
        Customer(external_id=f"buyer-{i}", email=f"buyer-{i}@example.com", language="en")
        for i in range(PURCHASES)
    )
    webhook_endpoint_create(url=hanging_receiver.url, events=[TICKET_UPDATED])

    env = {
        "EMAIL_URL": smtp.url,
        "CXCRM_DISPATCH_INTERVAL_SECONDS": "1",
        "CXCRM_WEBHOOK_TIMEOUT_SECONDS": str(WEBHOOK_TIMEOUT),
        # The receiver is on loopback: allowed here as with DEBUG on (production refuses it).
        "CXCRM_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    # README "Scaling": survey dispatch and webhooks in workers of their own.
    celery_worker(name="dispatch", pool="prefork", concurrency=DISPATCH_CONCURRENCY, env=env)
    celery_worker(
        name="hooks",
        pool="prefork",
        concurrency=WEBHOOK_CONCURRENCY,
        env=env,
        queues="webhooks",
    )
    celery_worker(name="beat", beat=True, env=env)

    # The backlog: one delivery per event, enqueued on commit onto the `webhooks` queue.
    with transaction.atomic():
        for i in range(BACKLOG):
            event_publish(TICKET_UPDATED, {"id": i, "status": "open"}, subject="")
    # Every webhook pool process is now waiting on the receiver...
    wait_for(lambda: len(hanging_receiver.requests) >= WEBHOOK_CONCURRENCY, timeout=30)
    held_since = time.monotonic()

    try:
        # ...when the purchases come in, in one transaction as one bulk API request records them.
        started = time.monotonic()
        with transaction.atomic():
            for i, customer in enumerate(customers):
                interaction_record(
                    customer=customer,
                    touchpoint=checkout,
                    occurred_at=timezone.now(),
                    source="shop",
                    external_id=f"order-{i}",
                )
        committed = time.monotonic()
        wait_for(lambda: len(smtp.messages) >= PURCHASES, timeout=30, every=0.05)
        done = time.monotonic()
        webhook_requests = len(hanging_receiver.requests)
        states = dict(
            WebhookDelivery.objects.values_list("status").annotate(n=Count("id")).order_by()
        )
        untried = WebhookDelivery.objects.filter(attempts=0).count()
    finally:
        hanging_receiver.released.set()

    emails_s = done - committed
    held_s = done - held_since
    queued = BACKLOG - webhook_requests
    rounds = math.ceil(queued / WEBHOOK_CONCURRENCY)
    # Each round of attempts lasts at least as long as the first has been held so far: a lower
    # bound of what the emails would have waited behind the backlog in one shared queue.
    drain_s = rounds * held_s
    print(
        f"\n{PURCHASES} purchases recorded in {committed - started:.1f}s; all {PURCHASES} survey "
        f"emails at the SMTP server {emails_s:.1f}s after they committed"
        f"\nwebhooks: {webhook_requests} of {BACKLOG} deliveries in flight, held {held_s:.1f}s "
        f"so far, none answered; the {queued} queued behind them need {rounds} more rounds: "
        f"at least {drain_s:.0f}s at the pace so far, {rounds * RECEIVER_HOLD:.0f}s as this "
        f"receiver answers"
    )

    assert sorted(m["To"] for m in smtp.messages) == sorted(c.email for c in customers)
    # Recorded "sent" by the worker after the server accepted each message.
    sent = Invitation.objects.filter(state=InvitationState.SENT)
    wait_for(lambda: sent.count() == PURCHASES, timeout=60, every=0.2)
    # All the emails went out while every webhook process was held by the receiver and the
    # rest of the backlog had not even started: dispatch needed none of them.
    assert webhook_requests == WEBHOOK_CONCURRENCY
    assert states == {
        DeliveryStatus.DELIVERING: WEBHOOK_CONCURRENCY,
        DeliveryStatus.PENDING: BACKLOG - WEBHOOK_CONCURRENCY,
    }
    assert untried == BACKLOG - WEBHOOK_CONCURRENCY
    assert emails_s * 10 < drain_s  # (30 s at most: the wait above)
