"""Alerts: a touchpoint whose answers got significantly worse, or a topic customers suddenly
talk about much more, raised once per episode and sent to the people who can act on it.

The test, for both kinds, is a one-sided two-proportion z-test (pooled variance) comparing
the last 7 days (the recent window) with the 28 days before them (the baseline):

- score drop: the share of bad answers at a touchpoint (NPS detractors 0-6, CSAT 1-2,
  CES 1-3: feedback.surveys.scoring's "bad" band, the same for every kind), with at least
  MIN_ANSWERS answers in each window;
- topic surge: the share of enriched comments that carry the topic, with at least
  MIN_MENTIONS mentions in the recent window (and MIN_ANSWERS comments in each window).

The alternative is "the recent share is higher"; it fires when p < P_VALUE (0.01). With one
test per touchpoint and per topic every hour, a stricter threshold than 0.05 keeps noise
from paging people; the minimum samples keep the normal approximation honest.

An episode is the run of evaluations in which the test keeps firing for one subject; it is
named by the kind, the subject and the ISO week it started (InsightAlert.episode, unique),
so two workers evaluating at once, or a test that flaps within a week, raise one alert.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from feedback.insights.alerts_notify import alert_notify_queue
from feedback.insights.models import (
    AlertKind,
    CommentInsight,
    InsightAlert,
    TextSentiment,
    Topic,
    TopicAssignment,
)
from feedback.surveys.models import Response
from feedback.surveys.scoring import SurveyKind, bad_categories
from touchpoints.models import Touchpoint

log = logging.getLogger(__name__)

RECENT = timedelta(days=7)
BASELINE = timedelta(days=28)
P_VALUE = 0.01
MIN_ANSWERS = 30
MIN_MENTIONS = 20
# Topics named as "grown" in an alert: the few whose share grew most, and only real growth.
GROWN_TOPICS = 3
# A surge names the touchpoints where its topic grew most, as many as this.
GROWN_TOUCHPOINTS = 3
BAD_CATEGORIES = sorted({c for kind in SurveyKind.values for c in bad_categories(kind)})


@dataclass(frozen=True)
class Proportions:
    """The figures of one test: k of n in the recent window against k of n in the baseline."""

    recent_k: int
    recent_n: int
    base_k: int
    base_n: int

    @property
    def recent_share(self) -> float:
        return self.recent_k / self.recent_n if self.recent_n else 0.0

    @property
    def base_share(self) -> float:
        return self.base_k / self.base_n if self.base_n else 0.0

    def z_test(self) -> tuple[float, float]:
        """(z, one-sided p) of "the recent share is higher than the baseline's"."""
        return two_proportion_z(self.recent_k, self.recent_n, self.base_k, self.base_n)

    def as_dict(self) -> dict[str, Any]:
        z, p = self.z_test()
        return {
            "recent": {
                "k": self.recent_k,
                "n": self.recent_n,
                "share": round(self.recent_share, 4),
            },
            "baseline": {"k": self.base_k, "n": self.base_n, "share": round(self.base_share, 4)},
            "z": round(z, 3),
            "p_value": float(f"{p:.3g}"),
            "test": "one-sided two-proportion z-test, pooled",
        }


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """z and the one-sided p-value (upper tail) of p1 > p2 with a pooled variance. A pooled
    share of 0 or 1 has no variance: nothing can be told apart, so (0, 1)."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (k1 + k2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / math.sqrt(variance)
    return z, 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str  # "touchpoint:<id>" or "topic:<id>"
    figures: Proportions
    touchpoint: Touchpoint | None = None
    topic: Topic | None = None


# --- The tests -------------------------------------------------------------------------------


def _windows(now: datetime) -> tuple[datetime, datetime]:
    return now - RECENT, now - RECENT - BASELINE


def score_drops(*, now: datetime) -> list[Finding]:
    """Touchpoints whose share of bad answers rose significantly (one query)."""
    recent_from, base_from = _windows(now)
    recent = Q(submitted_at__gte=recent_from)
    bad = Q(category__in=BAD_CATEGORIES)
    rows = (
        Response.objects.filter(
            touchpoint__isnull=False, submitted_at__gte=base_from, submitted_at__lt=now
        )
        .values("touchpoint")
        .annotate(
            recent_n=Count("id", filter=recent),
            recent_k=Count("id", filter=recent & bad),
            base_n=Count("id", filter=~recent),
            base_k=Count("id", filter=~recent & bad),
        )
        .filter(recent_n__gte=MIN_ANSWERS, base_n__gte=MIN_ANSWERS)
    )
    found = []
    for row in rows:
        figures = Proportions(row["recent_k"], row["recent_n"], row["base_k"], row["base_n"])
        if figures.z_test()[1] < P_VALUE:
            found.append(Finding(AlertKind.SCORE_DROP, f"touchpoint:{row['touchpoint']}", figures))
    touchpoints = Touchpoint.objects.in_bulk([int(f.subject.split(":")[1]) for f in found])
    return [
        Finding(f.kind, f.subject, f.figures, touchpoint=touchpoints[int(f.subject[11:])])
        for f in found
    ]


def _enriched(since: datetime, now: datetime) -> Any:
    return CommentInsight.objects.filter(
        enriched_at__isnull=False, occurred_at__gte=since, occurred_at__lt=now
    )


def _topic_counts(insights: Any, recent_from: datetime) -> dict[int, tuple[int, int]]:
    """Per topic: (recent mentions, baseline mentions) among ``insights`` (one query)."""
    recent = Q(insight__occurred_at__gte=recent_from)
    rows = (
        TopicAssignment.objects.filter(removed=False, insight__in=insights)
        .values("topic")
        .annotate(r=Count("id", filter=recent), b=Count("id", filter=~recent))
    )
    return {row["topic"]: (row["r"], row["b"]) for row in rows}


def _window_sizes(insights: Any, recent_from: datetime) -> tuple[int, int]:
    recent = Q(occurred_at__gte=recent_from)
    sizes = insights.aggregate(r=Count("id", filter=recent), b=Count("id", filter=~recent))
    return sizes["r"], sizes["b"]


def topic_surges(*, now: datetime) -> list[Finding]:
    """Active topics whose share of comments rose significantly (three queries)."""
    recent_from, base_from = _windows(now)
    insights = _enriched(base_from, now)
    recent_n, base_n = _window_sizes(insights, recent_from)
    if recent_n < MIN_ANSWERS or base_n < MIN_ANSWERS:
        return []
    found = []
    topics = Topic.objects.in_bulk(
        list(Topic.objects.filter(active=True).values_list("id", flat=True))
    )
    for topic_id, (recent_k, base_k) in _topic_counts(insights, recent_from).items():
        if topic_id not in topics or recent_k < MIN_MENTIONS:
            continue
        figures = Proportions(recent_k, recent_n, base_k, base_n)
        if figures.z_test()[1] < P_VALUE:
            found.append(
                Finding(AlertKind.TOPIC_SURGE, f"topic:{topic_id}", figures, topic=topics[topic_id])
            )
    return found


def grown_topics(*, now: datetime, touchpoint_id: int | None = None) -> list[dict[str, Any]]:
    """The topics whose share grew most in the recent window: among the touchpoint's negative
    comments (a score drop says what went wrong), or among all comments (a surge)."""
    recent_from, base_from = _windows(now)
    insights = _enriched(base_from, now)
    if touchpoint_id is not None:
        insights = insights.filter(touchpoint_id=touchpoint_id, sentiment=TextSentiment.NEGATIVE)
    recent_n, base_n = _window_sizes(insights, recent_from)
    if not recent_n:
        return []
    counts = _topic_counts(insights, recent_from)
    names = dict(Topic.objects.filter(pk__in=counts).values_list("id", "name"))
    grown = []
    for topic_id, (recent_k, base_k) in counts.items():
        recent_share = recent_k / recent_n
        base_share = base_k / base_n if base_n else 0.0
        if recent_share > base_share:
            grown.append(
                {
                    "topic": topic_id,
                    "name": names.get(topic_id, ""),
                    "recent_share": round(recent_share, 4),
                    "baseline_share": round(base_share, 4),
                    "mentions": recent_k,
                }
            )
    grown.sort(key=lambda g: (g["baseline_share"] - g["recent_share"], g["topic"]))
    return grown[:GROWN_TOPICS]


def grown_touchpoints(*, topic_id: int, now: datetime) -> list[dict[str, Any]]:
    """Where a surging topic grew most: per touchpoint, the topic's share of its comments in
    the recent window against the baseline. Ranked by the extra mentions (recent mentions
    beyond what the touchpoint's baseline share predicts), so a touchpoint with three
    comments cannot outrank the one behind the surge by a share alone. Two queries."""
    recent_from, base_from = _windows(now)
    insights = _enriched(base_from, now).filter(touchpoint__isnull=False)
    recent = Q(occurred_at__gte=recent_from)
    sizes = {
        row["touchpoint"]: (row["r"], row["b"])
        for row in insights.values("touchpoint").annotate(
            r=Count("id", filter=recent), b=Count("id", filter=~recent)
        )
    }
    mentioned = Q(topics__topic_id=topic_id, topics__removed=False)
    counts = (
        insights.filter(mentioned)
        .values("touchpoint")
        .annotate(r=Count("id", filter=recent), b=Count("id", filter=~recent))
    )
    grown = []
    for row in counts:
        recent_n, base_n = sizes.get(row["touchpoint"], (0, 0))
        if not recent_n:
            continue
        recent_share = row["r"] / recent_n
        base_share = row["b"] / base_n if base_n else 0.0
        extra = row["r"] - base_share * recent_n
        if recent_share > base_share:
            grown.append(
                {
                    "touchpoint": row["touchpoint"],
                    "recent_share": round(recent_share, 4),
                    "baseline_share": round(base_share, 4),
                    "mentions": row["r"],
                    "extra_mentions": round(extra, 1),
                }
            )
    grown.sort(key=lambda g: (-g["extra_mentions"], g["touchpoint"]))
    grown = grown[:GROWN_TOUCHPOINTS]
    names = dict(
        Touchpoint.objects.filter(pk__in=[g["touchpoint"] for g in grown]).values_list("id", "name")
    )
    return [{**g, "name": names.get(g["touchpoint"], "")} for g in grown]


# --- Episodes --------------------------------------------------------------------------------


def episode_key(kind: str, subject: str, started: datetime) -> str:
    year, week, _ = started.isocalendar()
    return f"{kind}:{subject}:{year}-W{week:02d}"


def _summary(
    finding: Finding, grown: list[dict[str, Any]], where: Sequence[dict[str, Any]] = ()
) -> str:
    f = finding.figures
    _, p = f.z_test()
    shares = (
        f"{f.base_share:.0%} → {f.recent_share:.0%} (last 7 days: {f.recent_k} of {f.recent_n}; "
        f"28 days before: {f.base_k} of {f.base_n}; p={p:.1g})"
    )
    if finding.kind == AlertKind.SCORE_DROP:
        assert finding.touchpoint is not None
        text = f"Score drop at {finding.touchpoint.name}: bad answers {shares}."
    else:
        assert finding.topic is not None
        text = f"Surge of {finding.topic.name}: share of comments {shares}."
    if grown:
        listed = ", ".join(
            f"{g['name']} ({g['baseline_share']:.0%} → {g['recent_share']:.0%})" for g in grown
        )
        text += f" Topics that grew: {listed}."
    if where:
        listed = ", ".join(
            f"{g['name']} ({g['baseline_share']:.0%} → {g['recent_share']:.0%})" for g in where
        )
        text += f" Touchpoints where it grew most: {listed}."
    return text


@dataclass(frozen=True)
class Evaluation:
    raised: list[InsightAlert]
    ongoing: int
    ended: int


def alerts_evaluate(*, now: datetime | None = None) -> Evaluation:
    """Run both tests, raise an alert for each new episode (and queue its notifications in
    the same transaction), keep ongoing ones quiet, and end the episodes whose test no longer
    fires. Safe to run concurrently: the episode key is unique."""
    now = now or timezone.now()
    findings = score_drops(now=now) + topic_surges(now=now)
    firing = {(f.kind, f.subject) for f in findings}
    open_alerts = {
        (a.kind, a.details.get("subject", "")): a
        for a in InsightAlert.objects.filter(details__ongoing=True)
    }
    ended = 0
    for key, alert in open_alerts.items():
        if key not in firing:
            alert.details = {**alert.details, "ongoing": False, "ended_at": now.isoformat()}
            alert.save(update_fields=["details"])
            ended += 1
    raised: list[InsightAlert] = []
    ongoing = 0
    for finding in findings:
        alert = open_alerts.get((finding.kind, finding.subject))
        if alert is not None:
            alert.details = {**alert.details, "last_seen_at": now.isoformat()}
            alert.save(update_fields=["details"])
            ongoing += 1
            continue
        created = _raise(finding, now)
        if created is not None:
            raised.append(created)
    return Evaluation(raised=raised, ongoing=ongoing, ended=ended)


def _raise(finding: Finding, now: datetime) -> InsightAlert | None:
    """A new alert, or None when this week's episode of the subject exists (raised by a
    concurrent run, or the test flapped): that one is marked ongoing again, not re-sent."""
    key = episode_key(finding.kind, finding.subject, now)
    tp_id = finding.touchpoint.pk if finding.touchpoint else None
    surge = finding.kind == AlertKind.TOPIC_SURGE
    grown = [_own_growth(finding)] if surge else grown_topics(now=now, touchpoint_id=tp_id)
    where = (
        grown_touchpoints(topic_id=finding.topic.pk, now=now)
        if surge and finding.topic is not None
        else []
    )
    details = {
        "subject": finding.subject,
        "ongoing": True,
        "started_at": now.isoformat(),
        "last_seen_at": now.isoformat(),
        "figures": finding.figures.as_dict(),
        "grown_topics": grown,
        "grown_touchpoints": where,
    }
    try:
        # The notifications are queued with the alert (emails and webhook deliveries are rows):
        # a committed alert is never left unannounced, a rolled-back one announces nothing.
        with transaction.atomic():
            alert = InsightAlert.objects.create(
                kind=finding.kind,
                episode=key,
                touchpoint=finding.touchpoint,
                topic=finding.topic,
                summary=_summary(finding, [] if surge else grown, where),
                details=details,
                raised_at=now,
            )
            alert_notify_queue(alert, now=now)
            return alert
    except IntegrityError:
        existing = InsightAlert.objects.filter(episode=key).first()
        if existing is not None and not existing.details.get("ongoing"):
            existing.details = {
                **existing.details,
                "ongoing": True,
                "last_seen_at": now.isoformat(),
            }
            existing.save(update_fields=["details"])
        return None


def _own_growth(finding: Finding) -> dict[str, Any]:
    assert finding.topic is not None
    f = finding.figures
    return {
        "topic": finding.topic.pk,
        "name": finding.topic.name,
        "recent_share": round(f.recent_share, 4),
        "baseline_share": round(f.base_share, 4),
        "mentions": f.recent_k,
    }
