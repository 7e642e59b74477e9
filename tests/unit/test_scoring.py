"""Answer categories at every boundary of every kind; one table decides them all."""

from __future__ import annotations

import pytest

from feedback.surveys.scoring import (
    Category,
    ScoreError,
    Sentiment,
    SurveyKind,
    bad_categories,
    categorize,
    score_range,
    sentiment_of,
)

BOUNDARIES = [
    # NPS 0–10: detractors 0–6, passives 7–8, promoters 9–10.
    (SurveyKind.NPS, 0, Category.DETRACTOR),
    (SurveyKind.NPS, 6, Category.DETRACTOR),
    (SurveyKind.NPS, 7, Category.PASSIVE),
    (SurveyKind.NPS, 8, Category.PASSIVE),
    (SurveyKind.NPS, 9, Category.PROMOTER),
    (SurveyKind.NPS, 10, Category.PROMOTER),
    # CSAT 1–5: dissatisfied 1–2, neutral 3, satisfied 4–5.
    (SurveyKind.CSAT, 1, Category.DISSATISFIED),
    (SurveyKind.CSAT, 2, Category.DISSATISFIED),
    (SurveyKind.CSAT, 3, Category.NEUTRAL),
    (SurveyKind.CSAT, 4, Category.SATISFIED),
    (SurveyKind.CSAT, 5, Category.SATISFIED),
    # CES 1–7: difficult 1–3, neutral 4, easy 5–7.
    (SurveyKind.CES, 1, Category.DIFFICULT),
    (SurveyKind.CES, 3, Category.DIFFICULT),
    (SurveyKind.CES, 4, Category.NEUTRAL),
    (SurveyKind.CES, 5, Category.EASY),
    (SurveyKind.CES, 7, Category.EASY),
]


@pytest.mark.parametrize(("kind", "score", "expected"), BOUNDARIES)
def test_category_at_each_boundary(kind: str, score: int, expected: Category) -> None:
    assert categorize(kind, score) == expected


@pytest.mark.parametrize(
    ("kind", "outside"),
    [
        (SurveyKind.NPS, -1),
        (SurveyKind.NPS, 11),
        (SurveyKind.CSAT, 0),
        (SurveyKind.CSAT, 6),
        (SurveyKind.CES, 0),
        (SurveyKind.CES, 8),
    ],
)
def test_score_outside_range_is_refused_with_the_range_named(kind: str, outside: int) -> None:
    low, high = score_range(kind)
    with pytest.raises(ScoreError, match=f"between {low} and {high}"):
        categorize(kind, outside)


@pytest.mark.parametrize("bad", [7.5, "7", None, True])
def test_non_integer_scores_are_refused(bad: object) -> None:
    with pytest.raises(ScoreError, match="whole number"):
        categorize(SurveyKind.NPS, bad)  # type: ignore[arg-type]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ScoreError, match="Unknown survey kind"):
        categorize("stars", 3)


@pytest.mark.parametrize("kind", list(SurveyKind))
def test_bands_cover_the_range_without_gaps(kind: str) -> None:
    low, high = score_range(kind)
    seen = [categorize(kind, s) for s in range(low, high + 1)]
    assert len(seen) == high - low + 1
    # Categories only ever move upwards through the range: bad, neutral, good.
    order = [sentiment_of(kind, s) for s in range(low, high + 1)]
    rank = {Sentiment.BAD: 0, Sentiment.NEUTRAL: 1, Sentiment.GOOD: 2}
    assert [rank[s] for s in order] == sorted(rank[s] for s in order)


def test_default_loop_categories_are_the_unhappy_band() -> None:
    assert bad_categories(SurveyKind.NPS) == ["detractor"]
    assert bad_categories(SurveyKind.CSAT) == ["dissatisfied"]
    assert bad_categories(SurveyKind.CES) == ["difficult"]
