"""/api/v1/insights/topics/metrics/ and /api/v1/insights/drivers/: the analysis's figures, its
period rules, its refusals (400s), a fixed number of queries, the schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.unit.test_insights_analysis import World

pytestmark = pytest.mark.django_db
METRICS = "/api/v1/insights/topics/metrics/"
DRIVERS = "/api/v1/insights/drivers/"


@pytest.fixture
def world() -> World:
    return World()


def test_topic_metrics_per_topic_and_per_touchpoint(read_client: Any, world: World) -> None:
    world.answers([2] * 30, ("delivery",), sentiment="negative", touchpoint=world.web)
    world.answers([9] * 5, ("delivery",), sentiment="positive")
    world.answers([9] * 5)
    body = read_client.get(METRICS, {"period": "30"}).json()
    assert body["until"] == timezone.localdate().isoformat()
    (row,) = body["topics"]
    assert row["topic"]["slug"] == "delivery" and "touchpoint" not in row
    assert (row["volume"], row["negative"], row["positive"]) == (35, 30, 5)
    assert row["share"] == pytest.approx(100 * 35 / 40)
    nps = row["scores"]["nps"]
    assert nps["n"] == 35 and nps["enough"] and nps["value"] == pytest.approx(-100 * 25 / 35)
    assert row["scores"]["csat"] == {
        "n": 0,
        "enough": False,
        "value": None,
        "pct_good": None,
        "pct_bad": None,
    }
    assert sum(w["volume"] for w in row["trend"]) == 35
    grouped = read_client.get(METRICS, {"group_by": "touchpoint"}).json()["topics"]
    assert {(r["touchpoint"], r["volume"]) for r in grouped} == {("web", 30), ("store", 5)}
    only_web = read_client.get(METRICS, {"touchpoint": "store"}).json()["topics"]
    assert [r["volume"] for r in only_web] == [5]


def test_drivers_put_the_obvious_one_first_and_hide_small_samples(
    read_client: Any, world: World
) -> None:
    world.answers([2] * 40, ("delivery",), touchpoint=world.web)
    world.answers([9] * 60 + [7] * 20)
    world.answers([2] * 5, ("staff",))
    body = read_client.get(DRIVERS).json()
    assert (body["kind"], body["minimum"]) == ("nps", 30)
    first, small = body["topics"]
    assert first["slug"] == "delivery" and first["significant"] and first["effect"] < -100
    assert first["effect_high"] < 0 < first["risk_low"]
    assert small["slug"] == "staff" and not small["enough"] and small["effect"] is None
    web = next(d for d in body["touchpoints"] if d["slug"] == "web")
    assert web["significant"] and web["impact"] < 0


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (METRICS, {"touchpoint": "nowhere"}, "touchpoint"),
        (METRICS, {"since": "2026-05-02", "until": "2026-05-01"}, "since"),
        (METRICS, {"since": "1900-01-01"}, "since"),
        (METRICS, {"group_by": "stage"}, "group_by"),
        (METRICS, {"period": "12"}, "period"),
        (METRICS, {"segment": "nobody"}, "segment"),
        (DRIVERS, {"kind": "stars"}, "kind"),
        (DRIVERS, {"since": "2020-01-01", "until": "2026-01-01"}, "since"),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(
    read_client: Any, url: str, params: dict[str, str], field: str
) -> None:
    reply = read_client.get(url, params)
    assert reply.status_code == 400
    assert field in str(reply.json())


def test_a_period_means_what_it_means_on_the_metrics_api(read_client: Any) -> None:
    from feedback.surveys.figures import query

    today = timezone.localdate()
    for period in ("7", "30", "90", "365", ""):
        mine = read_client.get(METRICS, {"period": period} if period else {}).json()
        theirs = query.period_resolve(period=period, today=today)
        assert (mine["since"], mine["until"]) == (theirs.since.isoformat(), today.isoformat())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # 1 the key; 2 comments per touchpoint, 3 mentions, 4 their scores, 5 weekly trend
        (METRICS, 5),
        # 1 the key; 2 comments, 3 mentions, 4 their scores (no trend), 5 the commented
        # answers' totals, 6 answers per touchpoint
        (DRIVERS, 6),
    ],
)
def test_query_count_does_not_grow_with_the_data(
    read_client: Any, world: World, url: str, expected: int
) -> None:
    params = {"group_by": "touchpoint"} if url == METRICS else {}
    world.answers([2] * 2, ("delivery",))
    read_client.get(url, params)  # the key's first use is stamped once: not counted
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            assert read_client.get(url, params).status_code == 200
        counts.append(len(ctx))
        for slug in ("staff", "price", "returns"):
            world.answers([2, 9, 10] * 10, (slug, "delivery"), touchpoint=world.web, days_ago=9)
    assert counts == [expected, expected]


def test_the_schema_describes_both_endpoints(read_client: Any) -> None:
    schema = read_client.get("/api/schema/", {"format": "json"}).json()
    for url in (METRICS, DRIVERS):
        operation = schema["paths"][url]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"period", "since", "until", "touchpoint", "segment"} <= names
        assert "200" in operation["responses"]
    assert "kind" in {p["name"] for p in schema["paths"][DRIVERS]["get"]["parameters"]}


def test_days_before_the_period_are_left_out(read_client: Any, world: World) -> None:
    world.answers([2] * 3, ("delivery",), days_ago=40)
    assert read_client.get(METRICS, {"period": "30"}).json()["topics"] == []
    since = (timezone.localdate() - timedelta(days=45)).isoformat()
    assert read_client.get(METRICS, {"since": since}).json()["topics"][0]["volume"] == 3
