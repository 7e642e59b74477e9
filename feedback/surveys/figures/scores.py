"""A score over a set of answers (NPS, CSAT, CES) and the SQL aggregates it is read from: one
definition for the dashboard, the metrics API (feedback.reporting) and the topics' scores and
drivers (feedback.insights). Categories come from feedback.surveys.scoring."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.aggregates import Aggregate

from feedback.surveys.scoring import Sentiment, SurveyKind, categories_with, score_range

# Below this many answers a score is noise (an NPS of 30 answers already has a margin of about
# ±30 points), so the figure says "too few answers" instead of showing a number. Not a setting:
# every installation and the API must agree on when a number is shown.
MIN_SAMPLE = 30
Z95 = 1.96
KINDS: tuple[str, ...] = tuple(k.value for k in SurveyKind)


def _categories(sentiment: Sentiment) -> list[str]:
    return sorted({str(c) for kind in KINDS for c in categories_with(kind, sentiment)})


GOOD = _categories(Sentiment.GOOD)
NEUTRAL = _categories(Sentiment.NEUTRAL)
BAD = _categories(Sentiment.BAD)
# The aggregates count categories across kinds in one query; that needs every category name to
# mean the same sentiment in every kind (CSAT's and CES's "neutral" both are neutral).
assert not (set(GOOD) & set(NEUTRAL) or set(GOOD) & set(BAD) or set(NEUTRAL) & set(BAD))
SUMMARY_FIELDS = ("n", "good", "neutral", "bad", "score_sum", "score_sq_sum")


@dataclass(frozen=True)
class Summary:
    """One score over a set of answers. `good/neutral/bad` are the kind's categories by
    sentiment (NPS: promoters/passives/detractors; CSAT: satisfied/neutral/dissatisfied;
    CES: easy/neutral/difficult). `value`: NPS −100…100, CSAT % satisfied, CES mean score;
    `margin`: the 95% confidence half-width of `value`, in its unit."""

    kind: str
    n: int = 0
    good: int = 0
    neutral: int = 0
    bad: int = 0
    score_sum: int = 0
    score_sq_sum: int = 0

    @property
    def enough(self) -> bool:
        return self.n >= MIN_SAMPLE

    @property
    def pct_good(self) -> float | None:
        return 100.0 * self.good / self.n if self.n else None

    @property
    def pct_neutral(self) -> float | None:
        return 100.0 * self.neutral / self.n if self.n else None

    @property
    def pct_bad(self) -> float | None:
        return 100.0 * self.bad / self.n if self.n else None

    @property
    def net(self) -> float | None:
        """% good − % bad: the NPS formula, readable for any kind (−100…100)."""
        return 100.0 * (self.good - self.bad) / self.n if self.n else None

    @property
    def mean(self) -> float | None:
        return self.score_sum / self.n if self.n else None

    @property
    def value(self) -> float | None:
        if self.kind == SurveyKind.NPS:
            return self.net
        if self.kind == SurveyKind.CSAT:
            return self.pct_good
        return self.mean

    @property
    def margin(self) -> float | None:
        if self.n < 2:
            return None
        p_good, p_bad = self.good / self.n, self.bad / self.n
        if self.kind == SurveyKind.NPS:
            # Variance of (promoter − detractor) indicators per answer, over n.
            variance = p_good * (1 - p_good) + p_bad * (1 - p_bad) + 2 * p_good * p_bad
            return Z95 * math.sqrt(variance / self.n) * 100
        if self.kind == SurveyKind.CSAT:
            return Z95 * math.sqrt(p_good * (1 - p_good) / self.n) * 100
        mean = self.score_sum / self.n
        sample_variance = max(self.score_sq_sum - self.n * mean * mean, 0.0) / (self.n - 1)
        return Z95 * math.sqrt(sample_variance / self.n)

    # NPS names, for readers of an NPS summary.
    @property
    def promoters(self) -> int:
        return self.good

    @property
    def passives(self) -> int:
        return self.neutral

    @property
    def detractors(self) -> int:
        return self.bad

    @property
    def scale(self) -> tuple[int, int]:
        return score_range(self.kind) if self.kind in KINDS else (0, 0)

    def __add__(self, other: Summary) -> Summary:
        kind = self.kind if self.kind == other.kind else ""
        return Summary(kind, *(getattr(self, f) + getattr(other, f) for f in SUMMARY_FIELDS))

    def __sub__(self, other: Summary) -> Summary:
        """The answers of `self` that are not in `other` (a part of them): "the others"."""
        kind = self.kind if self.kind == other.kind else ""
        return Summary(kind, *(getattr(self, f) - getattr(other, f) for f in SUMMARY_FIELDS))


def score_aggregates(path: str = "", *, where: Q | None = None) -> dict[str, Aggregate]:
    """A Summary's fields as aggregates over answers: `path` leads from the queried model to
    the answer ("insight__response__"), `where` restricts every one of them (conditional
    aggregates, for several kinds in one query)."""

    def only(q: Q | None) -> Q | None:
        if where is None:
            return q
        return where if q is None else where & q

    score = F(f"{path}score")
    return {
        "n": Count("id", filter=only(None)),
        "good": Count("id", filter=only(Q(**{f"{path}category__in": GOOD}))),
        "neutral": Count("id", filter=only(Q(**{f"{path}category__in": NEUTRAL}))),
        "bad": Count("id", filter=only(Q(**{f"{path}category__in": BAD}))),
        "score_sum": Sum(f"{path}score", filter=only(None)),
        "score_sq_sum": Sum(score * score, filter=only(None)),
    }


SCORE_AGGREGATES: dict[str, Aggregate] = score_aggregates()


def summary_of(kind: str, row: Mapping[str, Any]) -> Summary:
    """A Summary from a row of `score_aggregates` (SQL's NULL sums as 0)."""
    return Summary(kind, *(row[f] or 0 for f in SUMMARY_FIELDS))
