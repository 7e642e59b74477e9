"""/api/v1/metrics/: the dashboard's numbers, grouped, with a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.reporting import metrics
from feedback.surveys.scoring import SurveyKind
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import CAN_READ, DENIED, PERSONAS
from tests.factories import (
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
    TouchpointFactory,
)
from touchpoints.models import Touchpoint

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
    # (feedback.reporting.metrics.loop_kpis), 7 the grouped scores.
    assert few == many == 7


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2025-02-30"},
        {"since": "2025-03-02", "until": "2025-03-01"},
        {"group_by": "hour"},
        {"since": "2000-01-01", "until": "2025-01-01"},
        {"survey": "x"},
        {"bucket": "month"},
        {"group_by": "month", "bucket": "day"},
        {"group_by": "touchpoint", "bucket": "year"},
        {"fields": "everything"},
    ],
)
def test_bad_periods_are_400(read_client: Any, params: dict[str, str]) -> None:
    assert read_client.get(URL, params).status_code == 400


def _answer(touchpoint: Touchpoint, survey: Any, score: int, at: datetime) -> None:
    interaction = InteractionFactory(touchpoint=touchpoint, occurred_at=at)
    invitation = InvitationFactory(survey=survey, interaction=interaction, sent_at=at)
    ResponseFactory(invitation=invitation, score=score, submitted_at=at)


def test_scores_by_touchpoint_and_month(read_client: Any) -> None:
    shop = TouchpointFactory(slug="shop")
    van = TouchpointFactory(slug="van")
    nps, csat = SurveyFactory(kind=SurveyKind.NPS), SurveyFactory(kind=SurveyKind.CSAT)
    for score in (10, 9, 3):
        _answer(shop, nps, score, datetime(2026, 3, 5, 9, tzinfo=UTC))
    _answer(shop, nps, 0, datetime(2026, 4, 30, 23, 59, tzinfo=UTC))
    _answer(van, csat, 5, datetime(2026, 3, 31, 12, tzinfo=UTC))
    params = {"since": "2026-03-01", "until": "2026-04-30", "group_by": "touchpoint"}

    body = read_client.get(URL, {**params, "bucket": "month"}).json()

    groups = {g["key"]: g["buckets"] for g in body["groups"]}
    assert set(groups) == {shop.pk, van.pk}
    assert [b["key"] for b in groups[shop.pk]] == ["2026-03-01", "2026-04-01"]
    march, april = groups[shop.pk]
    # 2 promoters, 1 detractor of 3: (2 - 1) / 3.
    assert (march["scores"]["nps"]["n"], round(march["scores"]["nps"]["value"], 2)) == (3, 33.33)
    assert (april["scores"]["nps"]["n"], april["scores"]["nps"]["value"]) == (1, -100.0)
    assert (march["scores"]["csat"]["n"], march["scores"]["csat"]["value"]) == (0, None)
    assert set(march["scores"]) == {"nps", "csat", "ces"}
    assert [b["scores"]["csat"]["n"] for b in groups[van.pk]] == [1, 0]
    # The dashboard's numbers: its month trend, filtered to one touchpoint.
    f = metrics.MetricFilters.between(date(2026, 3, 1), date(2026, 4, 30), touchpoints=(shop.pk,))
    dashboard = metrics.score_trends(f, "month")
    for kind, points in dashboard.items():
        assert [b["scores"][kind]["value"] for b in groups[shop.pk]] == [
            p.summary.value for p in points
        ]
        assert [b["scores"][kind]["margin"] for b in groups[shop.pk]] == [
            p.summary.margin for p in points
        ]
    # And the cells add up to the ungrouped breakdown.
    flat = read_client.get(URL, params).json()
    by_tp = {g["key"]: g["scores"] for g in flat["groups"]}
    assert by_tp[shop.pk]["nps"]["n"] == sum(b["scores"]["nps"]["n"] for b in groups[shop.pk])


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
@pytest.mark.parametrize("group_by", ["touchpoint", "stage", "channel", "segment", "survey"])
def test_grouping_by_a_dimension_and_a_bucket_is_a_fixed_number_of_queries(
    read_client: Any, group_by: str, bucket: str
) -> None:
    params = {"group_by": group_by, "bucket": bucket}

    def count() -> int:
        read_client.get(URL, params)
        with CaptureQueriesContext(connection) as ctx:
            reply = read_client.get(URL, params)
        assert reply.status_code == 200
        assert reply.json()["groups"][0]["buckets"]
        return len(ctx)

    ResponseFactory.create_batch(2, score=4)
    few = count()
    ResponseFactory.create_batch(18, score=9)
    many = count()
    # 1 the API key, 2 the scores of every kind, 3 the response rate, 4-6 the loop KPIs
    # (feedback.reporting.metrics.loop_kpis), 7 the scores grouped by the dimension and the bucket.
    assert few == many == 7


def test_only_the_figures_asked_for_are_computed(read_client: Any) -> None:
    ResponseFactory.create_batch(3, score=9)
    params = {"group_by": "touchpoint", "bucket": "month", "fields": "groups"}
    read_client.get(URL, params)

    with CaptureQueriesContext(connection) as ctx:
        body = read_client.get(URL, params).json()

    # 1 the API key, 2 the scores grouped by touchpoint and month.
    assert len(ctx) == 2
    assert set(body) == {"since", "until", "groups"}
    both = read_client.get(URL, {"fields": ["scores", "loop"]}).json()
    assert set(both) == {"since", "until", "scores", "loop"}
    assert both["scores"] == read_client.get(URL).json()["scores"]
