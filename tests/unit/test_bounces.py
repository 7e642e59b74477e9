"""ESP delivery webhooks (anymail, Postmark's format) feed suppression."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from customers.models import SuppressionReason
from feedback.surveys.models import InvitationState
from tests.factories import CustomerFactory, InvitationFactory

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/tracking/"
SECRET = "hooks:s3cret-value"


def post(payload: dict, auth: str | None = SECRET):  # type: ignore[no-untyped-def]
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}):
        return Client().post(URL, json.dumps(payload), content_type="application/json", **headers)


def bounce(email: str, kind: str) -> dict:
    return {
        "RecordType": "Bounce",
        "Type": kind,
        "ID": 42,
        "Email": email,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "BouncedAt": "2026-11-20T10:00:00Z",
        "Details": "smtp;550 5.1.1 The email account does not exist",
        "Description": "The server was unable to deliver your message",
    }


def test_hard_bounce_suppresses_at_once_and_cancels_scheduled() -> None:
    customer = CustomerFactory(email="Gone@Example.com")
    pending = InvitationFactory(customer=customer)
    assert post(bounce("gone@example.com", "HardBounce")).status_code == 200
    customer.refresh_from_db()
    assert customer.suppressed_at is not None
    assert customer.suppression_reason == SuppressionReason.HARD_BOUNCE
    pending.refresh_from_db()
    assert pending.state == InvitationState.CANCELLED


def test_spam_complaint_suppresses_at_once() -> None:
    customer = CustomerFactory()
    payload = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "Email": customer.email}
    assert post(payload).status_code == 200
    customer.refresh_from_db()
    assert customer.suppression_reason == SuppressionReason.COMPLAINT


def test_soft_bounces_suppress_after_three() -> None:
    customer = CustomerFactory()
    for expected in (1, 2):
        assert post(bounce(customer.email, "SoftBounce")).status_code == 200
        customer.refresh_from_db()
        assert customer.soft_bounce_count == expected and customer.suppressed_at is None
    post(bounce(customer.email, "SoftBounce"))
    customer.refresh_from_db()
    assert customer.suppression_reason == SuppressionReason.SOFT_BOUNCES


def test_delivery_and_open_events_change_nothing() -> None:
    customer = CustomerFactory()
    post(
        {
            "RecordType": "Delivery",
            "Recipient": customer.email,
            "DeliveredAt": "2026-11-20T10:00:00Z",
        }
    )
    post({"RecordType": "Open", "Recipient": customer.email, "ReceivedAt": "2026-11-20T10:00:00Z"})
    customer.refresh_from_db()
    assert customer.suppressed_at is None and customer.soft_bounce_count == 0


@pytest.mark.parametrize("auth", [None, "hooks:wrong", "someone:else"])
def test_webhook_without_the_secret_is_refused_and_changes_nothing(auth: str | None) -> None:
    customer = CustomerFactory()
    response = post(bounce(customer.email, "HardBounce"), auth=auth)
    assert response.status_code in (400, 401, 403)
    customer.refresh_from_db()
    assert customer.suppressed_at is None


def test_webhooks_fail_closed_when_no_secret_is_configured() -> None:
    from cxcrm.env import anymail_settings

    generated = anymail_settings({})["WEBHOOK_SECRET"]
    assert generated.startswith("unset:") and len(generated) > 30
    customer = CustomerFactory()
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": generated}):
        response = Client().post(
            URL,
            json.dumps(bounce(customer.email, "HardBounce")),
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"unset:guess").decode(),
        )
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.suppressed_at is None


def test_malformed_webhook_body_is_a_4xx_not_a_500() -> None:
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}):
        response = Client().post(
            URL,
            "{not json",
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode(),
        )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"RecordType": "Bounce"}',
        '{"RecordType": "Bounce", "Email": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
    ids=["deep-array", "bounce-without-fields", "deep-email"],
)
def test_hostile_webhook_bodies_are_a_4xx_not_a_500(body: str) -> None:
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}):
        response = Client(raise_request_exception=False).post(
            URL,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode(),
        )
    assert response.status_code < 500


def test_unknown_address_is_ignored() -> None:
    assert post(bounce("nobody@example.com", "HardBounce")).status_code == 200


def test_esp_backend_is_selectable_by_email_url() -> None:
    from cxcrm.env import email_config

    assert (
        email_config("EMAIL_URL", "", {"EMAIL_URL": "anymail+postmark://"}).backend
        == "anymail.backends.postmark.EmailBackend"
    )
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="no ESP backend"):
        email_config("EMAIL_URL", "", {"EMAIL_URL": "anymail+nosuchesp://"})
    _ = timezone.now()
