"""/api/v1/metrics/: the dashboard's numbers, grouped, with a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.reporting import metrics
from feedback.surveys.scoring import SurveyKind
from feedback.tickets.models import TicketStatus
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import CAN_READ, DENIED, PERSONAS
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
)
from touchpoints.models import JourneyStage, Touchpoint

pytestmark = pytest.mark.django_db
URL = "/api/v1/metrics/"
DASHBOARD = "/admin/dashboard/"


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
    # 1 the API key, 2 the rollups' coverage (feedback.reporting.coverage), 3 the scores of
    # every kind, 4 the response rate, 5-7 the loop KPIs (feedback.reporting.loop.loop_kpis; raw
    # here: no rollups were built), 8 open and overdue tickets, 9 the grouped scores.
    assert few == many == 9


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
        {"period": "12"},
        {"until": "9999-12-31"},
        {"since": "0001-01-01", "until": "0001-01-02"},
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
    # 1 the API key, 2 the rollups' coverage, 3 the scores of every kind, 4 the response rate,
    # 5-7 the loop KPIs (feedback.reporting.loop.loop_kpis), 8 open and overdue tickets, 9 the
    # scores grouped by the dimension and the bucket.
    assert few == many == 9


def test_only_the_figures_asked_for_are_computed(read_client: Any) -> None:
    ResponseFactory.create_batch(3, score=9)
    params = {"group_by": "touchpoint", "bucket": "month", "fields": "groups"}
    read_client.get(URL, params)

    with CaptureQueriesContext(connection) as ctx:
        body = read_client.get(URL, params).json()

    # 1 the API key, 2 the rollups' coverage, 3 the scores grouped by touchpoint and month.
    assert len(ctx) == 3
    assert set(body) == {"since", "until", "groups"}
    both = read_client.get(URL, {"fields": ["scores", "loop"]}).json()
    assert set(both) == {"since", "until", "scores", "loop"}
    assert set(read_client.get(URL).json()) == {
        "since", "until", "scores", "response_rate", "loop", "tickets"
    }  # fmt: skip
    assert both["scores"] == read_client.get(URL).json()["scores"]


# --- One rule with the dashboard ----------------------------------------------------------------


def _dashboard_period(admin_client: Client, params: dict[str, str]) -> tuple[str, str]:
    page = admin_client.get(DASHBOARD, params)
    assert page.status_code == 200 and "since" in page.context, page.context["form"].errors
    return page.context["since"].isoformat(), page.context["until"].isoformat()


@pytest.mark.parametrize(
    ("params", "days", "ends_today"),
    [
        ({}, 90, True),  # the default: the dashboard's 90 days, on both
        ({"period": "30"}, 30, True),
        ({"period": "7", "since": "2026-01-01", "until": "2026-01-31"}, 7, True),  # period wins
        ({"until": "2026-03-31"}, 90, False),  # the default length, ending there
        ({"since": "2026-03-01", "until": "2026-03-31"}, 31, False),
    ],
)
def test_the_period_is_the_same_on_the_api_and_the_dashboard(
    read_client: Any, admin_client: Client, params: dict[str, str], days: int, ends_today: bool
) -> None:
    body = read_client.get(URL, params).json()
    since, until = date.fromisoformat(body["since"]), date.fromisoformat(body["until"])

    assert (until - since).days + 1 == days
    assert (until == timezone.localdate()) is ends_today
    assert (body["since"], body["until"]) == _dashboard_period(admin_client, params)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"touchpoint": "nope"}, "touchpoint", "No touchpoint with the slug “nope”."),
        # Beside a known one it is refused too, not dropped from the filter.
        ({"touchpoint": ["shop", "nope"]}, "touchpoint", "No touchpoint with the slug “nope”."),
        ({"segment": "gold"}, "segment", "No customer is in the segment “gold”."),
        (
            {"since": "2026-03-02", "until": "2026-03-01"},
            "since",
            "The first day must not be after the last day.",
        ),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "since", "At most 1098 days at a time."),
        ({"since": "1969-12-31"}, "since", "Give a day from 1970-01-01 to "),
    ],
)
def test_unknown_filters_are_refused_by_name_on_both_doors(
    read_client: Any, admin_client: Client, params: dict[str, Any], field: str, message: str
) -> None:
    TouchpointFactory(slug="shop")
    CustomerFactory(segment="vip")

    reply = read_client.get(URL, params)

    assert reply.status_code == 400
    assert reply.json()[field][0].startswith(message)
    # The dashboard's select offers one touchpoint at a time: it is asked about the unknown one.
    if isinstance(params.get("touchpoint"), list):
        params = {**params, "touchpoint": params["touchpoint"][-1]}
    page = admin_client.get(DASHBOARD, params)
    assert message in page.content.decode()
    assert "scores" not in page.context


def test_an_unknown_survey_is_refused(read_client: Any) -> None:
    known = SurveyFactory()

    assert read_client.get(URL, {"survey": known.pk}).status_code == 200
    reply = read_client.get(URL, {"survey": known.pk + 1})
    assert reply.status_code == 400
    assert reply.json()["survey"] == [f"No survey with the id {known.pk + 1}."]


def test_open_and_overdue_tickets_as_the_dashboard_counts_them(
    read_client: Any, admin_client: Client
) -> None:
    van = TouchpointFactory(slug="van", stage=JourneyStage.USAGE)
    shop = TouchpointFactory(slug="shop", stage=JourneyStage.ORDER)
    vip = CustomerFactory(segment="vip")
    late = timezone.now() - timedelta(days=1)
    TicketFactory(touchpoint=van, customer=vip, status=TicketStatus.OPEN, due_at=late)
    TicketFactory(touchpoint=van, status=TicketStatus.PENDING)
    TicketFactory(  # not open
        touchpoint=van,
        status=TicketStatus.RESOLVED,
        due_at=late,
        root_cause=RootCauseFactory(),
        resolved_at=late,
    )
    TicketFactory(touchpoint=shop, status=TicketStatus.NEW, due_at=late)
    # Open now, whatever the period: the queue as it stands.
    TicketFactory(touchpoint=shop, status=TicketStatus.NEW, created_at=late - timedelta(999))

    cases: list[tuple[dict[str, str], dict[str, int]]] = [
        ({}, {"open": 4, "overdue": 2}),
        ({"touchpoint": "van"}, {"open": 2, "overdue": 1}),
        ({"stage": "order"}, {"open": 2, "overdue": 1}),
        ({"segment": "vip"}, {"open": 1, "overdue": 1}),
        ({"period": "7"}, {"open": 4, "overdue": 2}),
    ]
    for params, expected in cases:
        body = read_client.get(URL, {**params, "fields": "tickets"}).json()
        assert body["tickets"] == expected, params
        dashboard = admin_client.get(DASHBOARD, params).context["tickets"]
        assert {"open": dashboard.open, "overdue": dashboard.overdue} == expected, params
