"""/api/v1/metrics/: the dashboard's numbers, grouped, with a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import metrics
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import CAN_READ, DENIED, PERSONAS
from tests.factories import ResponseFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/metrics/"


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_read_metrics(persona_client: Any, persona: str) -> None:
    reply = persona_client(persona).get(URL)

    assert reply.status_code == (200 if CAN_READ[persona] else DENIED[persona])


def test_the_same_numbers_as_the_dashboard(read_client: Any) -> None:
    for score in (10, 9, 3, 7):
        ResponseFactory(score=score)
    today = timezone.localdate()

    body = read_client.get(URL, {"since": today.isoformat(), "until": today.isoformat()}).json()

    f = metrics.MetricFilters.between(today, today)
    assert body["scores"]["nps"]["value"] == metrics.score_summary("nps", f).value == 25.0
    assert body["scores"]["nps"]["n"] == 4


@pytest.mark.parametrize(
    "group_by",
    metrics_groups := [
        "day",
        "week",
        "month",
        "touchpoint",
        "stage",
        "segment",
        "survey",
        "channel",
    ],
)
def test_grouping_is_a_fixed_number_of_queries(read_client: Any, group_by: str) -> None:
    def count() -> int:
        read_client.get(URL, {"group_by": group_by})
        with CaptureQueriesContext(connection) as ctx:
            reply = read_client.get(URL, {"group_by": group_by})
        assert reply.status_code == 200
        assert reply.json()["groups"]
        return len(ctx)

    ResponseFactory.create_batch(2, score=4)
    few = count()
    ResponseFactory.create_batch(18, score=9)
    many = count()
    # 1 the API key, 2 the scores of every kind, 3 the response rate, 4-6 the loop KPIs
    # (feedback.metrics.loop_kpis), 7 the grouped scores.
    assert few == many == 7


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2025-02-30"},
        {"since": "2025-03-02", "until": "2025-03-01"},
        {"group_by": "hour"},
        {"since": "2000-01-01", "until": "2025-01-01"},
        {"survey": "x"},
    ],
)
def test_bad_periods_are_400(read_client: Any, params: dict[str, str]) -> None:
    assert read_client.get(URL, params).status_code == 400
