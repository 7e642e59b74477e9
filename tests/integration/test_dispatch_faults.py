"""Dispatch through a database crash and a lost SMTP reply (issue 21), on the real parts.

The crash test gives a real `celery worker` a PostgreSQL cluster of the test's own (the
machine's shared server is never stopped), crashes it (`pg_ctl stop -m immediate`) while the
worker is sending, and starts it again: every invitation must arrive, within 60 s of the
database's return, and any repeat must carry its first copy's Message-ID. The lost-reply test
has the SMTP server keep a message and cut the connection before its 250.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from django.test import override_settings
from django.utils import timezone

from cxcrm.celery import app
from feedback.surveys.models import EmailStatus, Invitation, InvitationState, OutboundEmail
from feedback.surveys.services.dispatch import invitations_dispatch
from tests.factories import InvitationFactory
from tests.integration.conftest import ROOT, PrivatePostgres, Worker, wait_for
from tests.smtp import SmtpSink, smtp_settings

pytestmark = [pytest.mark.integration]

INVITATIONS = 300

# Run in a subprocess against the private cluster: migrate, then one survey, INVITATIONS
# customers and purchases, and their due invitations, in a handful of bulk INSERTs.
SEED = f"""
import django
django.setup()
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
from customers.models import Customer
from feedback.surveys.models import Invitation, Survey
from touchpoints.models import Interaction, Touchpoint

call_command("migrate", verbosity=0, interactive=False)
now = timezone.now()
checkout = Touchpoint.objects.create(name="Checkout", slug="checkout", stage="order", channel="web")
survey = Survey.objects.create(
    name="NPS", slug="nps", kind="nps", trigger_stage="order", delay=timedelta(0),
    texts={{"en": {{"subject": "How was your order?"}}}},
)
customers = Customer.objects.bulk_create(
    Customer(external_id=f"c-{{i}}", email=f"c-{{i}}@example.com", name=f"C {{i}}", language="en")
    for i in range({INVITATIONS})
)
interactions = Interaction.objects.bulk_create(
    Interaction(customer=c, touchpoint=checkout, occurred_at=now, source="shop",
                external_id=f"order-{{i}}")
    for i, c in enumerate(customers)
)
Invitation.objects.bulk_create(
    Invitation(survey=survey, customer=c, interaction=x, scheduled_for=now)
    for c, x in zip(customers, interactions)
)
"""


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def _states(url: str) -> dict[str, int]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT state, count(*) FROM feedback_invitation GROUP BY state"
        ).fetchall()
    return {state: count for state, count in rows}


def _all_sent(url: str) -> bool:
    try:
        return _states(url).get(InvitationState.SENT, 0) == INVITATIONS
    except psycopg.OperationalError:
        return False


def _log(worker: Worker) -> str:
    return worker.log.read_text(errors="replace")


class Ticker:
    """Stands in for beat: enqueues dispatch_due every second, as beat does with
    CXCRM_DISPATCH_INTERVAL_SECONDS=1 (beat's own database would crash with the worker's)."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            app.send_task("feedback.dispatch_due", expires=5)

    def __enter__(self) -> Ticker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)


def test_a_database_crash_mid_dispatch_loses_nothing_and_repeats_with_the_same_message_id(
    private_postgres: PrivatePostgres,
    celery_worker,  # type: ignore[no-untyped-def]
    smtp: SmtpSink,
) -> None:
    url = private_postgres.create_database("cxcrm_fault")
    env = {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "cxcrm.settings"}
    subprocess.run(
        [sys.executable, "-c", SEED],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        timeout=180,
    )
    # A server that takes 20 ms a message keeps the batches on the wire when the crash comes.
    smtp.handler.delay = 0.02
    # Default lease, batch size and time budget: only the beat's interval is shortened.
    worker = celery_worker(
        name="fault",
        pool="prefork",
        concurrency=3,
        env={**env, "EMAIL_URL": smtp.url, "CXCRM_DISPATCH_INTERVAL_SECONDS": "1"},
    )
    with Ticker():
        wait_for(lambda: len(smtp.messages) >= 40, timeout=120, every=0.05)
        private_postgres.stop("immediate")
        wait_for(lambda: "dispatch lost the database" in _log(worker), timeout=60)
        private_postgres.start()
        back = time.monotonic()
        wait_for(lambda: _all_sent(url), timeout=60, every=0.2)
        took = time.monotonic() - back
    received = smtp.messages
    by_recipient: dict[str, set[str]] = defaultdict(set)
    for message in received:
        by_recipient[str(message["To"])].add(str(message["Message-ID"]))
    expected = {f"c-{i}@example.com" for i in range(INVITATIONS)}
    assert set(by_recipient) == expected  # 0 lost
    # A repeat is the same email: one Message-ID per recipient, the one stored on the invitation.
    assert all(len(ids) == 1 for ids in by_recipient.values())
    with psycopg.connect(url) as conn:
        stored = dict(
            conn.execute(
                "SELECT c.email, i.message_id FROM feedback_invitation i "
                "JOIN customers_customer c ON c.id = i.customer_id"
            ).fetchall()
        )
    assert {to: ids.pop() for to, ids in by_recipient.items()} == stored
    assert "recovered the claim" in _log(worker)
    print(
        f"\ncrash-restart: {len(received)} emails for {INVITATIONS} invitations "
        f"({len(received) - INVITATIONS} repeats), all sent {took:.1f} s after the database "
        "was back"
    )


@pytest.mark.django_db(transaction=True)
def test_a_reply_lost_after_the_server_kept_the_message_is_resent_with_the_same_message_id(
    smtp: SmtpSink,
) -> None:
    invitations = [
        InvitationFactory(scheduled_for=timezone.now() - timedelta(minutes=1)) for _ in range(5)
    ]
    smtp.handler.cut_after = {3}
    with override_settings(**smtp_settings(smtp)):
        stats = invitations_dispatch()
    assert stats.sent == 5
    received = smtp.messages
    assert len(received) == 6
    cut = received[2]
    repeat = [m for m in received if m["To"] == cut["To"]]
    assert len(repeat) == 2
    assert repeat[0]["Message-ID"] == repeat[1]["Message-ID"]
    invitation = Invitation.objects.get(customer__email=str(cut["To"]))
    assert invitation.message_id == str(cut["Message-ID"])
    assert invitation.state == InvitationState.SENT
    assert invitation.attempts == 2
    attempts = list(invitation.emails.order_by("id"))
    assert [(e.possibly_delivered, e.status) for e in attempts] == [
        (True, EmailStatus.DEFERRED),
        (False, EmailStatus.SENT),
    ]
    assert {e.message_id for e in attempts} == {invitation.message_id}
    # The others went once, one attempt recorded each.
    others = Invitation.objects.exclude(pk=invitation.pk)
    assert sorted(others.values_list("attempts", flat=True)) == [1, 1, 1, 1]
    assert OutboundEmail.objects.filter(possibly_delivered=True).count() == 1
    assert len(invitations) == 5
