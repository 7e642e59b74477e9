"""Insight alerts (feedback.insights.alerts): the z-test, a seeded score drop raises one alert
however often it is evaluated, a stable world (random noise, fixed seed) raises none, a topic
surge names the topic, episodes end and flapping within the week is one episode, and the
notifications are queued with the alert (emails to the owner and Managers, insight.alert)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group

from cxcrm.models import WebhookDelivery, WebhookEndpoint
from feedback.insights.alerts import (
    MIN_ANSWERS,
    P_VALUE,
    alerts_evaluate,
    episode_key,
    two_proportion_z,
)
from feedback.insights.alerts_notify import alert_data, slack_payload, teams_payload
from feedback.insights.models import (
    AlertKind,
    CommentInsight,
    InsightAlert,
    InsightSource,
    Topic,
    TopicAssignment,
)
from feedback.surveys.models import EmailKind, OutboundEmail, Response
from feedback.surveys.scoring import SurveyKind, categorize
from tests.factories import CustomerFactory, SurveyFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_default_topics(db: Any) -> None:
    # Migration 0025 seeds the ten default topics; these tests build their own taxonomy.
    Topic.objects.all().delete()


def _now() -> datetime:
    return datetime.fromisoformat("2026-12-03T12:00:00+00:00")


def _answers(
    touchpoint: Any, *, days: tuple[int, int], n: int, bad_rate: float, rng: random.Random
) -> None:
    """n NPS answers spread over [now - days[1], now - days[0]), each a detractor with
    probability bad_rate (else a promoter or passive)."""
    survey = SurveyFactory(kind=SurveyKind.NPS)
    customer = CustomerFactory()
    rows = []
    for _ in range(n):
        score = rng.randint(0, 6) if rng.random() < bad_rate else rng.choice((7, 8, 9, 10))
        at = _now() - timedelta(days=rng.uniform(days[0], days[1]))
        rows.append(
            Response(
                survey=survey,
                kind=SurveyKind.NPS,
                customer=customer,
                touchpoint=touchpoint,
                score=score,
                category=categorize(SurveyKind.NPS, score),
                submitted_at=at,
            )
        )
    Response.objects.bulk_create(rows)


_source_ids = iter(range(1, 10**6))


def _comments(
    touchpoint: Any,
    *,
    days: tuple[int, int],
    n: int,
    topics: dict[Topic, float],
    rng: random.Random,
    sentiment: str = "negative",
) -> None:
    """n enriched comments; each carries each topic with the given probability."""
    insights = CommentInsight.objects.bulk_create(
        [
            CommentInsight(
                source=InsightSource.ANSWER,
                source_id=next(_source_ids),
                text="…",
                occurred_at=_now() - timedelta(days=rng.uniform(days[0], days[1])),
                touchpoint=touchpoint,
                language="en",
                sentiment=sentiment,
                enriched_at=_now(),
            )
            for _ in range(n)
        ]
    )
    TopicAssignment.objects.bulk_create(
        [
            TopicAssignment(insight=insight, topic=topic, confidence=0.9)
            for insight in insights
            for topic, rate in topics.items()
            if rng.random() < rate
        ]
    )


@pytest.fixture
def people() -> dict[str, Any]:
    owner = UserFactory(username="olga", email="olga@example.com", is_staff=True)
    manager = UserFactory(username="mia", email="mia@example.com", is_staff=True)
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    UserFactory(username="ann", email="ann@example.com", is_staff=True)  # an agent: not told
    return {"owner": owner, "manager": manager}


@pytest.fixture
def topics() -> dict[str, Topic]:
    return {
        slug: Topic.objects.create(name=name, slug=slug)
        for slug, name in (("delivery", "Delivery"), ("staff", "Staff"), ("price_value", "Price"))
    }


def test_two_proportion_z_matches_a_hand_computation() -> None:
    # 30/60 against 30/200: pooled 60/260; z = (0.5 - 0.15) / sqrt(p(1-p)(1/60 + 1/200)).
    z, p = two_proportion_z(30, 60, 30, 200)
    assert z == pytest.approx(5.644, abs=0.001)
    assert p < 1e-6
    assert two_proportion_z(0, 40, 0, 100) == (0.0, 1.0)  # no variance, nothing to tell
    assert two_proportion_z(5, 0, 5, 10) == (0.0, 1.0)
    # One-sided: a drop in the bad share is good news, never an alert.
    assert two_proportion_z(5, 60, 60, 200)[1] > 0.99


def test_a_seeded_score_drop_raises_one_alert_even_evaluated_twice(
    people: dict[str, Any], topics: dict[str, Topic]
) -> None:
    rng = random.Random(18)
    delivery = TouchpointFactory(name="Home delivery", owner=people["owner"])
    _answers(delivery, days=(7, 35), n=200, bad_rate=0.15, rng=rng)
    _answers(delivery, days=(0, 7), n=60, bad_rate=0.55, rng=rng)
    # What unhappy customers talk about: delivery complaints grew, staff ones did not.
    _comments(
        delivery,
        days=(7, 35),
        n=40,
        topics={topics["delivery"]: 0.3, topics["staff"]: 0.4},
        rng=rng,
    )
    _comments(
        delivery,
        days=(0, 7),
        n=40,
        topics={topics["delivery"]: 0.85, topics["staff"]: 0.2},
        rng=rng,
    )
    WebhookEndpoint.objects.create(
        url="https://hooks.example/x", events=["insight.alert"], secret="whsec_x"
    )

    first = alerts_evaluate(now=_now())
    second = alerts_evaluate(now=_now() + timedelta(hours=1))

    # The drop, and (true in this world too) the surge of delivery complaints; once each.
    assert sorted(a.kind for a in first.raised) == [AlertKind.SCORE_DROP, AlertKind.TOPIC_SURGE]
    assert second.raised == [] and second.ongoing == 2
    assert InsightAlert.objects.count() == 2
    alert = InsightAlert.objects.get(kind=AlertKind.SCORE_DROP)
    assert alert.kind == AlertKind.SCORE_DROP and alert.touchpoint == delivery
    assert alert.episode == f"score_drop:touchpoint:{delivery.pk}:2026-W49"
    figures = alert.details["figures"]
    assert figures["recent"]["n"] == 60 and figures["baseline"]["n"] == 200
    assert figures["p_value"] < P_VALUE and figures["z"] > 2.33
    assert [g["name"] for g in alert.details["grown_topics"]][:1] == ["Delivery"]
    assert "Staff" not in [g["name"] for g in alert.details["grown_topics"]]
    assert "Home delivery" in alert.summary and "Delivery" in alert.summary
    # Told once: the owner and the Manager by email (not the agent), integrators by webhook.
    emails = OutboundEmail.objects.filter(kind=EmailKind.ALERT, subject__contains="Score drop")
    assert sorted(emails.values_list("to_email", flat=True)) == [
        "mia@example.com",
        "olga@example.com",
    ]
    assert "Topics that grew" in emails[0].body_text and "Delivery" in emails[0].body_text
    sent = WebhookDelivery.objects.filter(event="insight.alert")
    assert sorted(d.payload["data"]["episode"] for d in sent) == sorted(
        InsightAlert.objects.values_list("episode", flat=True)
    )
    assert alert.notified_at is not None  # no chat configured: emails and webhook are queued


def test_a_stable_world_raises_nothing(people: dict[str, Any], topics: dict[str, Topic]) -> None:
    rng = random.Random(18)
    for name in ("Checkout", "Home delivery", "Support call"):
        tp = TouchpointFactory(name=name)
        _answers(tp, days=(7, 35), n=200, bad_rate=0.2, rng=rng)
        _answers(tp, days=(0, 7), n=60, bad_rate=0.2, rng=rng)
        _comments(tp, days=(7, 35), n=120, topics={topics["delivery"]: 0.3}, rng=rng)
        _comments(tp, days=(0, 7), n=40, topics={topics["delivery"]: 0.3}, rng=rng)

    assert alerts_evaluate(now=_now()).raised == []
    assert not InsightAlert.objects.exists() and not OutboundEmail.objects.exists()


def test_too_few_answers_never_alert(topics: dict[str, Topic]) -> None:
    rng = random.Random(7)
    tp = TouchpointFactory()
    _answers(tp, days=(7, 35), n=200, bad_rate=0.0, rng=rng)
    _answers(tp, days=(0, 7), n=MIN_ANSWERS - 1, bad_rate=1.0, rng=rng)  # all bad, too few
    assert alerts_evaluate(now=_now()).raised == []


def test_a_topic_surge_names_the_topic_and_ends_with_its_episode(
    people: dict[str, Any], topics: dict[str, Topic]
) -> None:
    rng = random.Random(18)
    tp = TouchpointFactory(name="Home delivery")
    _comments(
        tp,
        days=(7, 35),
        n=200,
        topics={topics["delivery"]: 0.1, topics["price_value"]: 0.2},
        rng=rng,
    )
    _comments(
        tp, days=(0, 7), n=60, topics={topics["delivery"]: 0.6, topics["price_value"]: 0.2}, rng=rng
    )

    result = alerts_evaluate(now=_now())

    assert [(a.kind, a.topic) for a in result.raised] == [
        (AlertKind.TOPIC_SURGE, topics["delivery"])
    ]
    alert = result.raised[0]
    assert alert.details["grown_topics"][0]["name"] == "Delivery"
    assert alert.details["figures"]["recent"]["k"] >= 20
    # A week later the recent window is quiet again: the episode ends; a new one is new.
    later = _now() + timedelta(days=8)
    assert alerts_evaluate(now=later).ended == 1
    alert.refresh_from_db()
    assert alert.details["ongoing"] is False


def test_a_topic_surge_names_the_touchpoints_where_it_grew_most(
    people: dict[str, Any], topics: dict[str, Topic]
) -> None:
    rng = random.Random(18)
    delivery = topics["delivery"]
    home, web, store, kiosk = (
        TouchpointFactory(name=name) for name in ("Home delivery", "Web shop", "Store", "Kiosk")
    )
    # Behind the surge: home delivery (10% → 60% of many comments), less the web shop;
    # the store's share fell; the kiosk's two recent comments both mention it (a share of
    # 100%, but two mentions explain little of a surge).
    for tp, base_n, base_rate, recent_n, recent_rate in (
        (home, 200, 0.1, 60, 0.6),
        (web, 100, 0.05, 30, 0.5),
        (store, 100, 0.2, 30, 0.05),
        (kiosk, 10, 0.0, 2, 1.0),
    ):
        _comments(tp, days=(7, 35), n=base_n, topics={delivery: base_rate}, rng=rng)
        _comments(tp, days=(0, 7), n=recent_n, topics={delivery: recent_rate}, rng=rng)

    (alert,) = alerts_evaluate(now=_now()).raised

    assert (alert.kind, alert.topic) == (AlertKind.TOPIC_SURGE, delivery)
    where = alert.details["grown_touchpoints"]
    assert [g["name"] for g in where] == ["Home delivery", "Web shop", "Kiosk"]
    assert where[0]["touchpoint"] == home.pk
    assert where[0]["baseline_share"] < 0.2 < 0.4 < where[0]["recent_share"]
    assert where[0]["extra_mentions"] > where[1]["extra_mentions"] > where[2]["extra_mentions"]
    assert "Touchpoints where it grew most: Home delivery (" in alert.summary
    assert "Store" not in alert.summary
    # Every channel says it: the webhook's data, the chat messages and the emails.
    assert alert_data(alert)["grown_touchpoints"] == where
    assert "Home delivery" in slack_payload(alert)["text"]
    assert "Home delivery" in str(teams_payload(alert))
    email = OutboundEmail.objects.filter(kind=EmailKind.ALERT).first()
    assert email is not None and "Touchpoints where it grew most" in email.body_text


def test_a_score_drop_names_no_touchpoints_but_its_grown_topics(
    people: dict[str, Any], topics: dict[str, Topic]
) -> None:
    rng = random.Random(18)
    tp = TouchpointFactory(name="Home delivery")
    _answers(tp, days=(7, 35), n=200, bad_rate=0.15, rng=rng)
    _answers(tp, days=(0, 7), n=60, bad_rate=0.55, rng=rng)
    _comments(tp, days=(7, 35), n=40, topics={topics["staff"]: 0.3}, rng=rng)
    _comments(tp, days=(0, 7), n=10, topics={topics["staff"]: 0.9}, rng=rng)

    (alert,) = alerts_evaluate(now=_now()).raised

    assert alert.kind == AlertKind.SCORE_DROP
    assert [g["name"] for g in alert.details["grown_topics"]] == ["Staff"]
    assert "Topics that grew: Staff (" in alert.summary
    assert alert.details["grown_touchpoints"] == []
    assert "Touchpoints where" not in alert.summary


def test_a_test_that_flaps_within_the_week_is_one_episode(people: dict[str, Any]) -> None:
    rng = random.Random(18)
    tp = TouchpointFactory()
    _answers(tp, days=(7, 35), n=200, bad_rate=0.1, rng=rng)
    _answers(tp, days=(0, 7), n=60, bad_rate=0.6, rng=rng)
    assert len(alerts_evaluate(now=_now()).raised) == 1
    alert = InsightAlert.objects.get()
    alert.details = {**alert.details, "ongoing": False}  # as if one evaluation had not fired
    alert.save()
    assert alerts_evaluate(now=_now() + timedelta(hours=2)).raised == []
    alert.refresh_from_db()
    assert alert.details["ongoing"] is True
    assert OutboundEmail.objects.count() == 1  # the Manager, once


def test_episode_key_is_the_iso_week_it_started() -> None:
    assert episode_key("topic_surge", "topic:3", _now()) == "topic_surge:topic:3:2026-W49"
    # 2027-01-01 is a Friday of ISO week 53 of 2026.
    assert episode_key("x", "y", datetime.fromisoformat("2027-01-01T00:00:00+00:00")).endswith(
        "2026-W53"
    )


def test_chat_payloads_carry_the_summary(people: dict[str, Any]) -> None:
    tp = TouchpointFactory(name="Checkout")
    alert = InsightAlert.objects.create(
        kind=AlertKind.SCORE_DROP, episode="e", touchpoint=tp, summary="Bad answers doubled."
    )
    slack = slack_payload(alert)
    assert "Bad answers doubled." in slack["text"]
    assert slack["blocks"][0]["text"]["text"] == "Score drop: Checkout"
    card = teams_payload(alert)["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][1]["text"] == "Bad answers doubled."
    assert set(alert_data(alert)) >= {"id", "kind", "episode", "summary", "figures", "grown_topics"}
    # Slack reads <!channel> in text as a mention: names are escaped.
    tp.name = "<!channel> & co"
    assert "&lt;!channel&gt; &amp; co" in slack_payload(alert)["text"]
