"""Outgoing webhooks end to end over real HTTP: a service change commits, the delivery task
POSTs to a receiver on loopback (http.server in a thread), the receiver verifies the Standard
Webhooks signature; a failing receiver gets the same message again after the retry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings
from standardwebhooks import Webhook

from cxcrm.models import DeliveryStatus, WebhookDelivery
from cxcrm.webhooks.services import webhook_endpoint_create
from cxcrm.webhooks.tasks import deliver_webhook
from feedback.tickets.services import ticket_set_priority
from tests.factories import TicketFactory
from tests.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _deliver_all() -> None:
    """Run the delivery task of every pending row in this process. Eagerly, Celery runs a
    retry at once instead of after its countdown: the test sees the retry without waiting."""
    for pk in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list(
        "pk", flat=True
    ):
        deliver_webhook.apply(args=[pk], throw=False)


@override_settings(CXCRM_WEBHOOK_ALLOW_PRIVATE=True, CELERY_TASK_ALWAYS_EAGER=False)
def test_a_committed_change_is_delivered_signed(monkeypatch: Any) -> None:
    # The after-commit enqueue goes to the configured broker; this test runs the task itself.
    monkeypatch.setattr("cxcrm.tasking.enqueue", lambda task, *args: True)
    with webhook_receiver() as receiver:
        endpoint = webhook_endpoint_create(url=receiver.url, events=["ticket.updated"])
        ticket = TicketFactory()

        ticket_set_priority(ticket_id=ticket.pk, priority=4)  # commits (transactional test)
        _deliver_all()

    (received,) = receiver.requests
    Webhook(endpoint.secret).verify(received.body, received.headers)
    payload = json.loads(received.body)
    assert payload["type"] == "ticket.updated"
    assert payload["data"]["id"] == ticket.pk and payload["data"]["priority"] == 4
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)


@override_settings(CXCRM_WEBHOOK_ALLOW_PRIVATE=True, CXCRM_WEBHOOK_RETRY_SCHEDULE=[1, 1])
def test_a_failing_receiver_gets_the_message_again(monkeypatch: Any) -> None:
    monkeypatch.setattr("cxcrm.tasking.enqueue", lambda task, *args: True)
    with webhook_receiver() as receiver:
        receiver.statuses = [503]
        endpoint = webhook_endpoint_create(url=receiver.url, events=["ticket.updated"])
        ticket = TicketFactory()
        ticket_set_priority(ticket_id=ticket.pk, priority=3)

        _deliver_all()

    first, second = receiver.requests
    for received in (first, second):
        Webhook(endpoint.secret).verify(received.body, received.headers)
    # The same message (webhook-id) both times, so the receiver can deduplicate.
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 2, 200)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None
