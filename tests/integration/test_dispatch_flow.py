"""Survey dispatch end to end on the real parts: PostgreSQL, Redis, real `celery worker` and
`celery beat` processes, and an SMTP server (aiosmtpd) catching the mail. Fault tests break the
parts the test owns (its own worker, its own Redis, its own SMTP server), bounded in time."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, SuppressionReason
from feedback.surveys.models import Invitation, InvitationState, Survey
from tests.integration.conftest import wait_for
from tests.smtp import SmtpSink
from touchpoints.models import Touchpoint
from touchpoints.services import interaction_record

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ru", "pl", "zh-hans", "ar"]
SUBJECTS = {
    "en": "How was your order?",
    "ru": "Как прошёл ваш заказ?",
    "pl": "Jak oceniasz zamówienie?",
    "zh-hans": "您的订单体验如何？",
    "ar": "كيف كانت تجربة طلبك؟",
}
FAST = {
    "CXCRM_DISPATCH_INTERVAL_SECONDS": "1",
    "CXCRM_DISPATCH_RETRY_BASE_SECONDS": "2",
    "CXCRM_DISPATCH_RETRY_MAX_SECONDS": "8",
    "CXCRM_DISPATCH_MAX_ATTEMPTS": "30",
    "CXCRM_DISPATCH_LEASE_SECONDS": "15",
    "CXCRM_DISPATCH_TIME_BUDGET": "10",
}


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def purchase_setup() -> tuple[Touchpoint, Survey]:
    checkout = Touchpoint.objects.create(
        name="Checkout", slug="checkout", stage="order", channel="web"
    )
    survey = Survey.objects.create(
        name="NPS after purchase",
        slug="nps-after-purchase",
        kind="nps",
        trigger_stage="order",
        delay=timedelta(0),
        texts={lang: {"subject": subject} for lang, subject in SUBJECTS.items()},
    )
    return checkout, survey


def make_customers(n: int, prefix: str) -> list[Customer]:
    return Customer.objects.bulk_create(
        Customer(
            external_id=f"{prefix}-{i}",
            email=f"{prefix}-{i}@example.com",
            name=f"{prefix} {i}",
            language=LANGUAGES[i % len(LANGUAGES)],
        )
        for i in range(n)
    )


def purchase(customer: Customer, touchpoint: Touchpoint, ref: str) -> None:
    interaction_record(
        customer=customer,
        touchpoint=touchpoint,
        occurred_at=timezone.now(),
        source="shop",
        external_id=ref,
    )


def test_thousand_purchases_become_thousand_emails_in_each_language(
    celery_worker, smtp: SmtpSink, purchase_setup, settings
) -> None:  # type: ignore[no-untyped-def]
    checkout, _survey = purchase_setup
    customers = make_customers(1000, "buyer")
    for i, customer in enumerate(customers):
        purchase(customer, checkout, f"order-{i}")
    # Purchases recorded in a transaction that rolls back leave nothing to send.
    ghosts = make_customers(20, "ghost")
    with pytest.raises(RuntimeError), transaction.atomic():
        for i, customer in enumerate(ghosts):
            purchase(customer, checkout, f"ghost-order-{i}")
        raise RuntimeError("the request failed after recording")

    env = {**FAST, "EMAIL_URL": smtp.url}
    celery_worker(name="w1", pool="prefork", concurrency=2, env=env)
    celery_worker(name="beat", beat=True, env=env)

    wait_for(lambda: len(smtp.messages) >= 1000, timeout=180, every=0.5)
    time.sleep(2)  # anything extra would arrive now
    messages = smtp.messages
    assert len(messages) == 1000
    by_address = {m["To"]: m for m in messages}
    assert len(by_address) == 1000
    assert not any(address.startswith("ghost-") for address in by_address)
    tokens = dict(Invitation.objects.values_list("customer__email", "token"))
    for customer in customers:
        message = by_address[customer.email]
        assert message["Subject"] == SUBJECTS[customer.language]
        assert message["Content-Language"] == customer.language
        token = tokens[customer.email]
        assert message["Reply-To"] == f"reply+{token}@{settings.INBOUND_EMAIL_DOMAIN}"
        assert f"/u/{token}/>" in message["List-Unsubscribe"]
        assert "mailto:unsubscribe+" in message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"]
    assert Invitation.objects.filter(state=InvitationState.SENT).count() == 1000


# A dead worker's claim comes back after the lease; the survivor must not wait the default
# 10 minutes for it. The lease must outlast a live batch by far (a live claim released
# mid-batch would be sent twice): batches of 20 take well under a second here.
SHORT_LEASE = {
    **FAST,
    "CXCRM_DISPATCH_BATCH_SIZE": "20",
    "CXCRM_DISPATCH_LEASE_SECONDS": "12",
}
KILL_PURCHASES = 1000


def test_worker_killed_mid_batch_loses_nothing(
    celery_worker, smtp: SmtpSink, purchase_setup
) -> None:  # type: ignore[no-untyped-def]
    checkout, _survey = purchase_setup
    with transaction.atomic():  # one commit: the purchases are the setting here, not the test
        for i, customer in enumerate(make_customers(KILL_PURCHASES, "kill")):
            purchase(customer, checkout, f"order-{i}")
    env = {**SHORT_LEASE, "EMAIL_URL": smtp.url}
    victim = celery_worker(name="victim", env=env)
    celery_worker(name="beat", beat=True, env=env)

    wait_for(lambda: len(smtp.messages) >= KILL_PURCHASES // 5, timeout=180)
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait(timeout=10)
    killed = time.monotonic()
    at_kill = len(smtp.messages)
    assert at_kill < KILL_PURCHASES, "the worker finished before it could be killed"
    held = Invitation.objects.filter(state=InvitationState.SENDING).count()

    celery_worker(name="survivor", env=env)
    sent = Invitation.objects.filter(state=InvitationState.SENT)
    wait_for(lambda: sent.count() == KILL_PURCHASES, timeout=180)
    took = time.monotonic() - killed
    # Every invitation is recorded sent: nothing more can be on its way.
    counts = Counter(m["To"] for m in smtp.messages)
    duplicates = sum(n - 1 for n in counts.values())
    print(
        f"\nkilled after {at_kill} emails holding a claim of {held}; all sent {took:.1f} s "
        f"after the kill; duplicates after restart: {duplicates}"
    )
    assert len(counts) == KILL_PURCHASES
    # Each message is recorded as sent right after the server accepts it, so only the one in
    # flight when the worker died can go twice; the bound is one batch.
    assert duplicates <= 1


def test_redis_down_purchases_accepted_beat_ticks_fail_and_all_sent_after(
    celery_worker, smtp: SmtpSink, purchase_setup, private_redis
) -> None:  # type: ignore[no-untyped-def]
    checkout, _survey = purchase_setup
    customers = make_customers(150, "outage")
    env = {**FAST, "EMAIL_URL": smtp.url, "CELERY_BROKER_URL": private_redis.url}
    celery_worker(name="w", env=env)
    beat = celery_worker(name="beat", beat=True, env=env)
    for i in range(50):
        purchase(customers[i], checkout, f"before-{i}")
    wait_for(lambda: len(smtp.messages) >= 50, timeout=180)

    beat_log_at_stop = len(beat.log.read_text(errors="replace"))
    private_redis.stop()
    # A fixed number of purchases, however long each takes on a busy machine: every one must
    # be recorded (with its invitation) while the broker is down.
    for i in range(100):
        purchase(customers[50 + i], checkout, f"during-{i}")
    during = Invitation.objects.filter(interaction__external_id__startswith="during-")
    assert during.count() == 100

    # Progress, not a clock: the broker stays down until beat has failed to hand over several
    # dispatch ticks (each one a send to the dead broker), however long they take to come.
    def failed_ticks() -> int:
        log = beat.log.read_text(errors="replace")[beat_log_at_stop:]
        return log.count("Couldn't apply scheduled task dispatch-due-invitations")

    wait_for(lambda: failed_ticks() >= 3, timeout=120, every=0.2)
    private_redis.start()

    wait_for(lambda: len({m["To"] for m in smtp.messages}) == 150, timeout=180, every=0.5)
    # The worker records "sent" in its own transaction after the server accepted the message.
    sent = Invitation.objects.filter(state=InvitationState.SENT)
    wait_for(lambda: sent.count() == 150, timeout=60, every=0.5)


def test_customer_at_an_idn_domain_gets_the_survey_with_a_punycode_envelope(
    celery_worker, smtp: SmtpSink, purchase_setup
) -> None:  # type: ignore[no-untyped-def]
    checkout, _survey = purchase_setup
    customer = Customer.objects.create(
        external_id="idn-1", email="user@exämple.com", name="Jörg", language="en"
    )
    purchase(customer, checkout, "idn-order-1")
    env = {**FAST, "EMAIL_URL": smtp.url}
    celery_worker(name="w", env=env)
    celery_worker(name="beat", beat=True, env=env)

    wait_for(lambda: smtp.messages, timeout=180)
    [(_sender, recipients)] = smtp.envelopes
    assert recipients == ["user@xn--exmple-cua.com"]
    [message] = smtp.messages
    assert message["To"] == "user@xn--exmple-cua.com"
    assert message["Subject"] == SUBJECTS["en"]
    # The worker records "sent" after the server accepted the message: wait for that commit.
    invitation = wait_for(
        lambda: Invitation.objects.filter(customer=customer, state=InvitationState.SENT).first(),
        timeout=60,
    )
    assert message["Message-ID"] == invitation.message_id


def test_smtp_451_retried_then_delivered_and_550_suppressed(
    celery_worker, smtp: SmtpSink, purchase_setup
) -> None:  # type: ignore[no-untyped-def]
    checkout, _survey = purchase_setup
    customers = make_customers(100, "defer")
    smtp.defer_for(3600)
    smtp.refuse(lambda address: address == "defer-7@example.com", "550 5.1.1 Unknown user")
    for i, customer in enumerate(customers):
        purchase(customer, checkout, f"order-{i}")
    env = {**FAST, "EMAIL_URL": smtp.url}
    celery_worker(name="w", env=env)
    celery_worker(name="beat", beat=True, env=env)

    # The server answers 451 until every invitation has been tried, deferred, and tried again
    # after its backoff (progress, not a clock: however slowly the machine gets there).
    retried = Invitation.objects.filter(attempts__gte=2)
    wait_for(lambda: retried.count() == 100, timeout=180, every=0.5)
    assert smtp.messages == []  # nothing got through while the server said 451
    smtp.defer_for(0)

    wait_for(lambda: len(smtp.messages) >= 99, timeout=180, every=0.5)
    wait_for(
        lambda: Invitation.objects.filter(state=InvitationState.FAILED).count() == 1, timeout=180
    )
    counts = Counter(m["To"] for m in smtp.messages)
    assert len(counts) == 99 and max(counts.values()) == 1
    # Every one was deferred at least once, then delivered (recorded after the server's 250).
    deferred = Invitation.objects.filter(state=InvitationState.SENT, attempts__gt=1)
    wait_for(lambda: deferred.count() == 99, timeout=60, every=0.5)
    bounced = Customer.objects.get(email="defer-7@example.com")
    assert bounced.suppression_reason == SuppressionReason.HARD_BOUNCE
    failed = Invitation.objects.get(state=InvitationState.FAILED)
    assert failed.customer == bounced and failed.last_error.startswith("550")
