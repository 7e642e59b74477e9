"""Outgoing webhooks: events from the services, Standard Webhooks signatures, delivery and
retries against a real receiver on loopback, disabling a failing endpoint, the API and admin."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from customers.services import customer_unsubscribe
from cxcrm.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from cxcrm.webhooks.events import event_publish, webhook_deliveries_erase, webhook_redeliver
from cxcrm.webhooks.services import (
    webhook_deliver,
    webhook_deliveries_stuck,
    webhook_endpoint_create,
)
from cxcrm.webhooks.signing import headers, new_secret
from feedback.surveys.models import EmailKind, OutboundEmail
from feedback.tickets.services import ticket_resolve, ticket_set_priority
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import count_get, key_client, rows
from tests.factories import CustomerFactory, RootCauseFactory, TicketFactory
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db
LOOPBACK = override_settings(CXCRM_WEBHOOK_ALLOW_PRIVATE=True)


def _endpoint(url: str = "https://hooks.example.com/cx", **kwargs: Any) -> WebhookEndpoint:
    kwargs.setdefault("events", ["ticket.updated", "ticket.resolved", "customer.unsubscribed"])
    return webhook_endpoint_create(url=url, **kwargs)


# --- Signing ------------------------------------------------------------------------------------


def test_signed_headers_verify_with_the_standard_webhooks_library() -> None:
    secret = new_secret()
    body = b'{"type":"ticket.updated"}'
    sent = headers(secret, "msg_1", body)

    assert Webhook(secret).verify(body, sent) == {"type": "ticket.updated"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, sent)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, headers(secret, "msg_1", body, timestamp=1))


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    # From the Standard Webhooks specification's test vectors.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    sent = headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", body, timestamp=1614265330)

    assert sent["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# --- Events from the services --------------------------------------------------------------------


def test_events_reach_subscribed_active_endpoints_only(
    django_capture_on_commit_callbacks: Any,
) -> None:
    subscribed = _endpoint()
    _endpoint(events=["response.created"])
    off = _endpoint()
    WebhookEndpoint.objects.filter(pk=off.pk).update(active=False)
    ticket = TicketFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        ticket_set_priority(ticket_id=ticket.pk, priority=4)

    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == subscribed
    assert delivery.payload["type"] == "ticket.updated"
    assert delivery.payload["data"]["priority"] == 4
    # After commit: the one delivery (only the subscribed, active endpoint gets a row); a
    # priority moves no loop figure, so the rollups refresh nothing.
    assert len(callbacks) == 1


def test_a_rolled_back_change_sends_nothing() -> None:
    _endpoint()
    ticket = TicketFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_set_priority(ticket_id=ticket.pk, priority=4)
        raise RuntimeError

    assert not WebhookDelivery.objects.exists()


def test_resolve_and_unsubscribe_publish_their_events() -> None:
    _endpoint()
    ticket = TicketFactory()
    customer = CustomerFactory()

    ticket_resolve(ticket_id=ticket.pk, root_cause=RootCauseFactory())
    customer_unsubscribe(customer=customer)
    customer_unsubscribe(customer=customer)  # already out: no second event

    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == [
        "customer.unsubscribed",
        "ticket.resolved",
    ]


def test_unknown_events_are_refused() -> None:
    with pytest.raises(ValueError):
        event_publish("ticket.exploded", {}, subject="")


# --- Delivery against a real receiver -------------------------------------------------------------


@LOOPBACK
def test_delivery_is_signed_and_logged() -> None:
    with webhook_receiver() as receiver:
        endpoint = _endpoint(receiver.url)
        event_publish("ticket.updated", {"id": 7}, subject="")
        delivery = WebhookDelivery.objects.get()

        attempt = webhook_deliver(delivery_id=delivery.pk)

    assert attempt is not None and attempt.status == DeliveryStatus.SUCCEEDED
    (received,) = receiver.requests
    Webhook(endpoint.secret).verify(received.body, received.headers)
    assert json.loads(received.body)["data"] == {"id": 7}
    assert received.headers["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)
    assert delivery.duration_ms is not None
    # Done: a second attempt (a duplicate task) does nothing.
    assert webhook_deliver(delivery_id=delivery.pk) is None


@LOOPBACK
@override_settings(CXCRM_WEBHOOK_RETRY_SCHEDULE=[60, 600])
def test_failures_retry_then_give_up_and_disable_the_endpoint() -> None:
    with webhook_receiver() as receiver:
        receiver.statuses = [500, 503, 500]
        endpoint = _endpoint(receiver.url, owner_email="dev@shop.example")
        event_publish("ticket.updated", {"id": 1}, subject="")
        delivery = WebhookDelivery.objects.get()

        first = webhook_deliver(delivery_id=delivery.pk)
        second = webhook_deliver(delivery_id=delivery.pk)
        third = webhook_deliver(delivery_id=delivery.pk)

    assert first is not None and first.retry_in is not None and 54 <= first.retry_in <= 66
    assert second is not None and second.retry_in is not None and 540 <= second.retry_in <= 660
    assert third is not None and (third.status, third.retry_in) == ("failed", None)
    assert len(receiver.requests) == 3
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    email = OutboundEmail.objects.get(kind=EmailKind.SYSTEM)
    assert email.to_email == "dev@shop.example"
    assert endpoint.url in email.body_text


@LOOPBACK
def test_a_success_in_between_keeps_the_endpoint_on() -> None:
    with webhook_receiver() as receiver:
        endpoint = _endpoint(receiver.url)
        with override_settings(CXCRM_WEBHOOK_RETRY_SCHEDULE=[]):
            receiver.statuses = [400]
            event_publish("ticket.updated", {"id": 1}, subject="")
            bad = WebhookDelivery.objects.get()
            # Another delivery succeeded after this one was made.
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                last_success_at=timezone.now() + timedelta(seconds=1)
            )
            webhook_deliver(delivery_id=bad.pk)

    endpoint.refresh_from_db()
    bad.refresh_from_db()
    assert bad.status == DeliveryStatus.FAILED
    assert endpoint.active


def test_the_sweep_finds_lost_retries_and_dead_claims() -> None:
    _endpoint()
    event_publish("ticket.updated", {"id": 1}, subject="")
    event_publish("ticket.updated", {"id": 2}, subject="")
    lost, claimed = WebhookDelivery.objects.order_by("id")
    long_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)
    WebhookDelivery.objects.filter(pk=claimed.pk).update(
        status=DeliveryStatus.DELIVERING, last_attempt_at=long_ago
    )

    found = webhook_deliveries_stuck(now=timezone.now() + timedelta(minutes=10))

    assert sorted(found) == sorted([lost.pk, claimed.pk])


def test_redelivery_keeps_the_message_id() -> None:
    _endpoint()
    event_publish("ticket.updated", {"id": 1}, subject="")
    original = WebhookDelivery.objects.get()

    copy = webhook_redeliver(delivery_id=original.pk)

    assert copy.pk != original.pk
    assert (copy.message_id, copy.payload, copy.status) == (
        original.message_id,
        original.payload,
        DeliveryStatus.PENDING,
    )


def test_an_erased_delivery_is_not_sent_again() -> None:
    _endpoint()
    event_publish("ticket.updated", {"id": 1, "name": "Ada"}, subject="customer:7")
    webhook_deliveries_erase(subject="customer:7")
    original = WebhookDelivery.objects.get()

    assert webhook_redeliver(delivery_id=original.pk) is None
    assert WebhookDelivery.objects.count() == 1


# --- The API and the admin ------------------------------------------------------------------------


def test_endpoints_through_the_api_are_scoped_to_their_key(write_client: Any) -> None:
    made = write_client.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/a", "events": ["ticket.created", "ticket.updated"]},
        format="json",
    )
    other = key_client("read,write")
    other.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/b", "events": ["ticket.created"]},
        format="json",
    )

    assert made.status_code == 201
    assert made.json()["secret"].startswith("whsec_")
    mine = rows(write_client.get("/api/v1/webhooks/"))
    assert [e["url"] for e in mine] == ["https://hooks.example.com/a"]
    assert "secret" not in mine[0]
    other_id = WebhookEndpoint.objects.get(url__endswith="/b").pk
    assert write_client.get(f"/api/v1/webhooks/{other_id}/").status_code == 404
    assert write_client.delete(f"/api/v1/webhooks/{other_id}/").status_code == 404
    assert (
        write_client.post(
            "/api/v1/webhooks/", {"url": "ftp://x", "events": ["nope"]}, format="json"
        ).status_code
        == 400
    )


def test_read_keys_cannot_register_endpoints(read_client: Any) -> None:
    reply = read_client.post(
        "/api/v1/webhooks/", {"url": "https://h.example.com", "events": ["ticket.created"]}
    )
    assert reply.status_code == 403


def test_delivery_log_query_count_does_not_grow(staff_client: Any) -> None:
    def publish(n: int) -> None:
        for _ in range(n):
            event_publish("ticket.updated", {"id": 1}, subject="")

    _endpoint()
    publish(2)
    few, _ = count_get(staff_client, "/api/v1/webhook-deliveries/")
    publish(18)
    many, reply = count_get(staff_client, "/api/v1/webhook-deliveries/")

    assert len(rows(reply)) == 20
    # 1 the session, 2 the user, 3 the page (cursor: no COUNT).
    assert few == many == 3


def test_admin_redeliver_action(admin_client: Any) -> None:
    _endpoint()
    event_publish("ticket.updated", {"id": 1}, subject="")
    delivery = WebhookDelivery.objects.get()

    page = admin_client.post(
        "/admin/cxcrm/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )

    assert page.status_code == 302
    assert WebhookDelivery.objects.filter(message_id=delivery.message_id).count() == 2


def test_admin_shows_a_new_key_once(admin_client: Any) -> None:
    page = admin_client.post(
        "/admin/cxcrm/apikey/add/", {"name": "shop", "scopes": ["read", "write"]}, follow=True
    )

    assert page.status_code == 200
    shown = [str(m) for m in page.context["messages"]]
    assert any("cx_" in m for m in shown)
    with CaptureQueriesContext(connection):
        listing = admin_client.get("/admin/cxcrm/apikey/")
    assert b"cx_" in listing.content
