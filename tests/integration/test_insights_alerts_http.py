"""Insight alerts end to end: the hourly task runs on a real worker (PostgreSQL, Redis) over a
seeded score drop, and the alert reaches three real HTTP receivers on loopback: Slack's and
Teams' incoming webhooks (their payload shapes) and our signed ``insight.alert`` webhook
(verified with the Standard Webhooks library); evaluated again, nothing is sent twice."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook

from cxcrm.models import DeliveryStatus, WebhookDelivery
from cxcrm.webhooks.services import webhook_endpoint_create
from feedback.insights.alerts_tasks import evaluate_alerts
from feedback.insights.models import InsightAlert
from feedback.surveys.models import EmailKind, OutboundEmail, Response
from feedback.surveys.scoring import SurveyKind, categorize
from tests.factories import CustomerFactory, SurveyFactory, TouchpointFactory, UserFactory
from tests.integration.conftest import wait_for
from tests.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _drop_world() -> Any:
    """A touchpoint whose detractor share went from ~10 % to ~70 % this week (seeded)."""
    rng = random.Random(18)
    owner = UserFactory(username="olga", email="olga@example.com", is_staff=True)
    manager = UserFactory(username="mia", email="mia@example.com", is_staff=True)
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    touchpoint = TouchpointFactory(name="Home delivery", owner=owner)
    survey, customer, now = SurveyFactory(kind=SurveyKind.NPS), CustomerFactory(), timezone.now()
    rows = []
    for n, bad_rate, days in ((80, 0.1, (8, 34)), (40, 0.7, (0.1, 6.5))):
        for _ in range(n):
            score = rng.randint(0, 6) if rng.random() < bad_rate else rng.choice((7, 8, 9, 10))
            rows.append(
                Response(
                    survey=survey,
                    kind=SurveyKind.NPS,
                    customer=customer,
                    touchpoint=touchpoint,
                    score=score,
                    category=categorize(SurveyKind.NPS, score),
                    submitted_at=now - timedelta(days=rng.uniform(*days)),
                )
            )
    Response.objects.bulk_create(rows)
    return touchpoint


@override_settings(CXCRM_WEBHOOK_ALLOW_PRIVATE=True)
def test_an_alert_reaches_slack_teams_and_our_signed_webhook(celery_worker: Any) -> None:
    with (
        webhook_receiver() as slack,
        webhook_receiver() as teams,
        webhook_receiver() as ours,
    ):
        endpoint = webhook_endpoint_create(url=ours.url, events=["insight.alert"])
        touchpoint = _drop_world()
        celery_worker(
            name="alerts",
            queues="cxcrm,webhooks",
            env={
                "CXCRM_WEBHOOK_ALLOW_PRIVATE": "true",
                "CXCRM_ALERT_SLACK_URL": slack.url + "services/T000/B000/XXXX",
                "CXCRM_ALERT_TEAMS_URL": teams.url + "workflows/alerts",
            },
        )

        evaluate_alerts.delay()
        wait_for(
            lambda: (
                InsightAlert.objects.filter(notified_at__isnull=False).exists()
                and WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists()
            ),
            timeout=90,
        )
        # Evaluated again on the worker: the episode is ongoing, nothing new is sent.
        seen = InsightAlert.objects.get().details["last_seen_at"]
        evaluate_alerts.delay()
        wait_for(lambda: InsightAlert.objects.get().details["last_seen_at"] != seen, timeout=90)

    alert = InsightAlert.objects.get()
    assert alert.touchpoint == touchpoint and alert.details["figures"]["p_value"] < 0.01
    assert alert.details["chat"] == {"slack": "sent", "teams": "sent"}

    (slack_post,) = slack.requests
    message = json.loads(slack_post.body)
    assert {k.lower(): v for k, v in slack_post.headers.items()}[
        "content-type"
    ] == "application/json"
    assert message["text"].startswith("Score drop: Home delivery.")
    assert message["blocks"][1]["text"]["text"] == alert.summary

    (teams_post,) = teams.requests
    card = json.loads(teams_post.body)["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert card["content"]["body"][1]["text"] == alert.summary

    (signed,) = ours.requests
    Webhook(endpoint.secret).verify(signed.body, signed.headers)
    payload = json.loads(signed.body)
    assert payload["type"] == "insight.alert"
    assert payload["data"]["episode"] == alert.episode
    assert payload["data"]["figures"]["recent"]["n"] == 40

    emails = OutboundEmail.objects.filter(kind=EmailKind.ALERT)
    assert sorted(emails.values_list("to_email", flat=True)) == [
        "mia@example.com",
        "olga@example.com",
    ]
