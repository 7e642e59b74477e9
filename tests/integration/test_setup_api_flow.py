"""A fresh deployment configured only through the setup API, on the real parts: PostgreSQL,
Redis, a real `celery worker` and `celery beat`, and an SMTP server (aiosmtpd) that catches the
survey emails, one per customer, in each customer's language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from feedback.surveys.models import Survey
from tests.api_support import key_client
from tests.integration.conftest import wait_for
from tests.integration.test_dispatch_flow import FAST
from tests.smtp import SmtpSink
from tests.unit.test_api_setup import BODIES, ROOT_CAUSES, SURVEYS, TEXTS, TOUCHPOINTS, survey_body
from touchpoints.models import Touchpoint

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def test_deployment_set_up_through_the_api_emails_its_first_buyers(
    celery_worker: Any, smtp: SmtpSink
) -> None:
    assert not Touchpoint.objects.exists() and not Survey.objects.exists()
    api = key_client("read,write")
    survey = survey_body(trigger_stage="", trigger_touchpoints=["checkout"])
    for url, body in [
        (TOUCHPOINTS, BODIES[TOUCHPOINTS]),
        (SURVEYS, survey),
        (ROOT_CAUSES, BODIES[ROOT_CAUSES]),
    ]:
        reply = api.post(url, body, format="json")
        assert reply.status_code == 201, reply.content[:300]
    for language in TEXTS:
        customer = {"external_id": f"c-{language}", "email": f"{language}@example.com"}
        reply = api.post("/api/v1/customers/", {**customer, "language": language}, format="json")
        assert reply.status_code == 201
    purchases = [
        {
            "source": "shop",
            "external_id": f"order-{language}",
            "customer_external_id": f"c-{language}",
            "touchpoint": "checkout",
            "occurred_at": timezone.now().isoformat(),
        }
        for language in TEXTS
    ]
    assert api.post("/api/v1/interactions/", purchases, format="json").status_code == 200

    env = {**FAST, "EMAIL_URL": smtp.url}
    celery_worker(name="w", env=env)
    celery_worker(name="beat", beat=True, env=env)

    wait_for(lambda: len(smtp.messages) >= len(TEXTS), timeout=180, every=0.5)
    subjects = {m["To"]: m["Subject"] for m in smtp.messages}
    assert subjects == {f"{lang}@example.com": subject for lang, (subject, _) in TEXTS.items()}
