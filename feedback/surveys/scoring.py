"""Survey kinds, their score ranges and answer categories: the one place they are defined.

The model constraints (score range, category matching the score), the services that record
answers, the close-the-loop rules and the SQL metrics all read these tables, so a boundary can
only ever be decided here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT (1–5)")
    CES = "ces", _("CES (1–7)")


class Category(models.TextChoices):
    PROMOTER = "promoter", pgettext_lazy("answer category", "Promoter")
    PASSIVE = "passive", pgettext_lazy("answer category", "Passive")
    DETRACTOR = "detractor", pgettext_lazy("answer category", "Detractor")
    SATISFIED = "satisfied", pgettext_lazy("answer category", "Satisfied")
    NEUTRAL = "neutral", pgettext_lazy("answer category", "Neutral")
    DISSATISFIED = "dissatisfied", pgettext_lazy("answer category", "Dissatisfied")
    EASY = "easy", pgettext_lazy("answer category", "Easy")
    DIFFICULT = "difficult", pgettext_lazy("answer category", "Difficult")


class Sentiment(models.TextChoices):
    """Kind-independent reading of a category: what close-the-loop and recovery reason about."""

    GOOD = "good", pgettext_lazy("answer sentiment", "Good")
    NEUTRAL = "neutral", pgettext_lazy("answer sentiment", "Neutral")
    BAD = "bad", pgettext_lazy("answer sentiment", "Bad")


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    category: Category
    sentiment: Sentiment


# Ordered low to high; the bands of a kind cover its range exactly, without gaps or overlaps.
BANDS: dict[str, tuple[Band, ...]] = {
    SurveyKind.NPS: (
        Band(0, 6, Category.DETRACTOR, Sentiment.BAD),
        Band(7, 8, Category.PASSIVE, Sentiment.NEUTRAL),
        Band(9, 10, Category.PROMOTER, Sentiment.GOOD),
    ),
    SurveyKind.CSAT: (
        Band(1, 2, Category.DISSATISFIED, Sentiment.BAD),
        Band(3, 3, Category.NEUTRAL, Sentiment.NEUTRAL),
        Band(4, 5, Category.SATISFIED, Sentiment.GOOD),
    ),
    SurveyKind.CES: (
        Band(1, 3, Category.DIFFICULT, Sentiment.BAD),
        Band(4, 4, Category.NEUTRAL, Sentiment.NEUTRAL),
        Band(5, 7, Category.EASY, Sentiment.GOOD),
    ),
}


class ScoreError(ValueError):
    """A score outside its kind's range, or an unknown kind."""


def score_range(kind: str) -> tuple[int, int]:
    bands = _bands(kind)
    return bands[0].low, bands[-1].high


def band_for(kind: str, score: int) -> Band:
    if isinstance(score, bool) or not isinstance(score, int):
        raise ScoreError(f"A score must be a whole number, not {score!r}.")
    for band in _bands(kind):
        if band.low <= score <= band.high:
            return band
    low, high = score_range(kind)
    raise ScoreError(f"A {kind.upper()} score must be between {low} and {high}; got {score}.")


def categorize(kind: str, score: int) -> Category:
    return band_for(kind, score).category


def sentiment_of(kind: str, score: int) -> Sentiment:
    return band_for(kind, score).sentiment


def categories_with(kind: str, sentiment: Sentiment) -> list[Category]:
    return [band.category for band in _bands(kind) if band.sentiment == sentiment]


def bad_categories(kind: str) -> list[str]:
    """The default close-the-loop rule: the unhappy band of the kind opens a ticket."""
    return [str(c) for c in categories_with(kind, Sentiment.BAD)]


def kind_categories(kind: str) -> list[Category]:
    return [band.category for band in _bands(kind)]


def score_matches_kind_q(kind_field: str = "kind", score_field: str = "score") -> Q:
    """A Q that holds when the score is inside its kind's range (for a CheckConstraint)."""
    condition = Q()
    for kind in BANDS:
        low, high = score_range(kind)
        condition |= Q(
            **{kind_field: kind, f"{score_field}__gte": low, f"{score_field}__lte": high}
        )
    return condition


def category_matches_score_q(
    kind_field: str = "kind", score_field: str = "score", category_field: str = "category"
) -> Q:
    """A Q that holds when the stored category is the one the score falls in."""
    condition = Q()
    for kind, bands in BANDS.items():
        for band in bands:
            condition |= Q(
                **{
                    kind_field: kind,
                    category_field: band.category,
                    f"{score_field}__gte": band.low,
                    f"{score_field}__lte": band.high,
                }
            )
    return condition


def _bands(kind: str) -> tuple[Band, ...]:
    try:
        return BANDS[kind]
    except KeyError:
        raise ScoreError(f"Unknown survey kind {kind!r}.") from None
