"""Inbound mail on the real parts: the webhook answers at once with the row "received", a
real Celery worker (Redis) reads it into PostgreSQL, and the sweep run by that worker picks up
a row whose enqueue was lost."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from feedback.inbound.models import InboundEmail, InboundSource, InboundStatus
from feedback.inbound.services import inbound_email_store
from feedback.inbound.tasks import inbound_sweep
from tests.integration.conftest import wait_for
from tests.unit.test_inbound import DOMAIN, SECRET, TOKEN, answered_invitation, eml

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"INBOUND_EMAIL_DOMAIN": DOMAIN}


def _final(pk: int) -> InboundEmail | None:
    row = InboundEmail.objects.get(pk=pk)
    return row if row.status != InboundStatus.RECEIVED else None


@override_settings(
    INBOUND_EMAIL_DOMAIN=DOMAIN, ANYMAIL={"WEBHOOK_SECRET": SECRET}, CELERY_TASK_ALWAYS_EAGER=False
)
def test_the_webhook_answers_and_a_real_worker_reads_the_reply(celery_worker: Any) -> None:
    assert connection.vendor == "postgresql"
    response = answered_invitation()
    celery_worker(name="inbound", env=WORKER_ENV)
    raw = eml("gmail_reply_ar.eml").replace(
        b"\xd9\x88\xd8\xb5\xd9\x84", b"\x00\xd9\x88\xd8\xb5\xd9\x84", 1
    )
    payload = {"RawEmail": raw.decode(), "OriginalRecipient": f"reply+{TOKEN}@{DOMAIN}"}
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    page = Client().post(
        "/inbound/email/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert page.status_code == 200
    row = wait_for(lambda: _final(InboundEmail.objects.get().pk), timeout=60)
    assert row.status == InboundStatus.MATCHED_RESPONSE, row.note
    assert row.attempts == 1
    assert "\x00" not in row.text and row.text.startswith("وصل الطلب")  # NUL dropped
    assert b"\x00" in bytes(row.raw)  # the bytes as received
    response.refresh_from_db()
    assert "reply+" not in response.comment and response.comment == row.text


@override_settings(INBOUND_EMAIL_DOMAIN=DOMAIN, CELERY_TASK_ALWAYS_EAGER=False)
def test_the_sweep_on_a_real_worker_reads_a_row_whose_enqueue_was_lost(
    celery_worker: Any,
) -> None:
    answered_invitation()
    # Stored without its task (as when the broker was down at commit), ten minutes ago.
    row = inbound_email_store(raw=eml("gmail_reply_ru.eml"), source=InboundSource.WEBHOOK)
    InboundEmail.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    celery_worker(name="sweep", env=WORKER_ENV)
    inbound_sweep.delay()
    done = wait_for(lambda: _final(row.pk), timeout=60)
    assert done.status == InboundStatus.MATCHED_RESPONSE, done.note
