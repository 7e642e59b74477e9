"""The numbers of the dashboard, the journey map and the REST API: pure reads.

Every figure is one SQL query of conditional aggregates (``Count(filter=Q(...))``, ``Sum``)
over ``Response``, ``Invitation`` or ``Ticket``; the rows are never loaded, so a figure costs
the same for ten answers as for a million. Grouped figures (by kind, by bucket, by touchpoint)
are still one query each. The filters are applied by one function (`filters.filter_q`) so
every figure answers the same question.

Answer categories come from `feedback.surveys.scoring`; no threshold is written here.
Follow-up answers (the recovery survey after a resolved ticket) are left out of the scores: they
measure the ticket's recovery (see `loop_kpis`), and counting them would let the loop improve
the NPS of the touchpoint that caused the complaint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.aggregates import Aggregate
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from feedback.reporting.coverage import (
    Key,
    coverage,
    grain_for,
    marked_q,
    one_coverage,
    rollup_days,
    rollup_q,
)
from feedback.reporting.models import AnswerRollup, InvitationRollup
from feedback.surveys.figures.filters import (
    INTERACTION_PATHS,
    INVITATION_PATHS,
    TICKET_PATHS,
    MetricFilters,
    filter_q,
    survey_answers,
)
from feedback.surveys.figures.query import BUCKETS, Bucket
from feedback.surveys.figures.scores import (
    KINDS,
    MIN_SAMPLE,
    SCORE_AGGREGATES,
    Summary,
    summary_of,
)
from feedback.surveys.models import Invitation, InvitationPurpose, InvitationState
from feedback.tickets.models import Ticket, overdue_q
from touchpoints.models import Interaction, JourneyStage, Touchpoint

# Ticket KPIs count every ticket (a census, not an opinion sample), but a percentage of a
# handful of tickets still moves by 10+ points per ticket; below this they say so too.
MIN_TICKETS = 10
# "rollups": closed days from feedback.reporting.models, marked days from the raw rows (exact
# either way); "raw": every row, what the rollups are checked against and rebuilt from.
Source = Literal["rollups", "raw"]
Dimension = Literal["touchpoint", "stage", "channel", "segment", "survey"]
_ROLLUP_SCORE_SUMS: dict[str, Aggregate] = {
    "n": Sum("n"),
    "good": Sum("good"),
    "neutral": Sum("neutral"),
    "bad": Sum("bad"),
    "score_sum": Sum("score_sum"),
    "score_sq_sum": Sum("score_sq_sum"),
}


def _grouped(
    raw: QuerySet[Any],
    rolled: QuerySet[Any] | None,
    keys: Mapping[str, Key],
    raw_sums: Mapping[str, Aggregate],
    rollup_sums: Mapping[str, Aggregate],
) -> list[dict[str, Any]]:
    """Rows per key: from the raw rows alone (`rolled` None), or one UNION ALL of the rollups'
    clean days and the raw rows of marked days, whose rows for one key are summed here."""
    # Positional aliases: a key may be a path ("touchpoint__stage"), not a valid alias.
    names = [f"k_{i}" for i in range(len(keys))]
    raw_rows = (
        raw.annotate(**{a: e for a, (e, _) in zip(names, keys.values(), strict=True)})
        .values(*names)
        .annotate(**raw_sums)
    )
    if rolled is None:
        rows: Iterable[dict[str, Any]] = raw_rows
    else:
        rolled_rows = (
            rolled.annotate(**{a: e for a, (_, e) in zip(names, keys.values(), strict=True)})
            .values(*names)
            .annotate(**rollup_sums)
        )
        rows = rolled_rows.union(raw_rows, all=True)
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(_plain(row[n]) for n in names)
        blank = {**dict(zip(keys, key, strict=True)), **dict.fromkeys(raw_sums, 0)}
        found = merged.setdefault(key, blank)
        for name in raw_sums:
            found[name] += row[name] or 0
    return list(merged.values())


def _plain(value: Any) -> Any:
    # A bucket comes back as a date, or on PostgreSQL from DATE_TRUNC as a naive midnight.
    return value.date() if isinstance(value, datetime) else value


def _answer_groups(
    f: MetricFilters, keys: Mapping[str, Key], source: Source = "rollups"
) -> list[dict[str, Any]]:
    """Every kind's score sums per key. One query, whichever the source."""
    days = rollup_days(f) if source == "rollups" else None
    cov = coverage() if days is not None else None
    if days is None or cov is None:
        return _grouped(survey_answers(f), None, keys, SCORE_AGGREGATES, _ROLLUP_SCORE_SUMS)
    rolled = AnswerRollup.objects.filter(rollup_q(f, days, grain_for(f, keys), cov)).order_by()
    raw = survey_answers(f).filter(marked_q("submitted_at", cov))
    return _grouped(raw, rolled, keys, SCORE_AGGREGATES, _ROLLUP_SCORE_SUMS)


KIND_KEY: Key = (F("kind"), F("kind"))


# --- Scores (NPS, CSAT, CES) --------------------------------------------------------------------


def score_summary(kind: str, f: MetricFilters, source: Source = "rollups") -> Summary:
    """One kind's score. One query."""
    return score_summaries(f, source)[kind] if kind in KINDS else Summary(kind)


def score_summaries(f: MetricFilters, source: Source = "rollups") -> dict[str, Summary]:
    """NPS, CSAT and CES together (every kind present, empty ones with n=0). One query."""
    rows = _answer_groups(f, {"kind": KIND_KEY}, source)
    found = {row["kind"]: summary_of(row["kind"], row) for row in rows}
    return {kind: found.get(kind, Summary(kind)) for kind in KINDS}


@dataclass(frozen=True)
class TrendPoint:
    start: date
    summary: Summary


_TRUNC = {"day": None, "week": TruncWeek, "month": TruncMonth}
# Where each grouping of the raw answers is found on AnswerRollup.
_ROLLUP_FIELDS = {
    "kind": "kind",
    "touchpoint_id": "touchpoint_id",
    "touchpoint__stage": "touchpoint__stage",
    "touchpoint__channel": "touchpoint__channel",
    "customer__segment": "segment",
    "survey_id": "survey_id",
}


def _keys(*group: str) -> dict[str, Key]:
    return {g: (F(g), F(_ROLLUP_FIELDS[g])) for g in group}


def _bucket_starts(first: date, last: date, bucket: Bucket) -> list[date]:
    """Every bucket from the one holding `first` to the one holding `last` (inclusive)."""
    starts: list[date] = []
    if bucket == "day":
        day = first
    elif bucket == "week":
        day = first - timedelta(days=first.weekday())
    else:
        day = first.replace(day=1)
    while day <= last:
        starts.append(day)
        if bucket == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=1 if bucket == "day" else 7)
    return starts


def _trend_rows(
    f: MetricFilters, bucket: Bucket, *group: str, source: Source = "rollups"
) -> Iterable[dict[str, Any]]:
    if bucket not in _TRUNC:
        raise ValueError(f"Unknown bucket {bucket!r}; use one of {', '.join(BUCKETS)}.")
    tz = timezone.get_current_timezone()
    # The local day first, then its week or month: both sides of the rollups' UNION group by
    # the same date expression (AnswerRollup.day is that local day).
    day = TruncDate("submitted_at", tzinfo=tz)
    trunc = _TRUNC[bucket]
    raw_bucket = day if trunc is None else trunc(day)
    rollup_bucket = F("day") if trunc is None else trunc("day")
    # No ORDER BY: every caller files the rows by bucket itself, and with one, PostgreSQL
    # (which cannot estimate how few buckets there are) sorts every answer to group them
    # instead of hashing them (bench/explain/metrics.txt).
    keys = {"bucket": (raw_bucket, rollup_bucket), **_keys(*group)}
    return _answer_groups(f, keys, source)


def _series(
    found: Mapping[date, Summary], kind: str, f: MetricFilters, bucket: Bucket
) -> list[TrendPoint]:
    """Buckets without answers are there too (n=0), so a chart's x axis is time, not rows."""
    if f.since is not None and f.until is not None:
        first = timezone.localdate(f.since)
        last = timezone.localdate(f.until - timedelta(microseconds=1))
    elif found:
        first, last = min(found), max(found)
    else:
        return []
    return [TrendPoint(s, found.get(s, Summary(kind))) for s in _bucket_starts(first, last, bucket)]


def score_trends(
    f: MetricFilters, bucket: Bucket = "week", source: Source = "rollups"
) -> dict[str, list[TrendPoint]]:
    """Every kind's score per day, week (from Monday) or month. One query."""
    found: dict[str, dict[date, Summary]] = defaultdict(dict)
    for row in _trend_rows(f, bucket, "kind", source=source):
        found[row["kind"]][row["bucket"]] = summary_of(row["kind"], row)
    return {kind: _series(found[kind], kind, f, bucket) for kind in KINDS}


def score_trend(
    kind: str, f: MetricFilters, bucket: Bucket = "week", source: Source = "rollups"
) -> list[TrendPoint]:
    """One kind's score per bucket. One query."""
    return score_trends(f, bucket, source).get(kind, [])


_DIMENSION_FIELDS: dict[str, str] = {
    "touchpoint": "touchpoint_id",
    "stage": "touchpoint__stage",
    "channel": "touchpoint__channel",
    "segment": "customer__segment",
    "survey": "survey_id",
}


def breakdown(
    f: MetricFilters, by: Dimension, source: Source = "rollups"
) -> dict[Any, dict[str, Summary]]:
    """Every kind's score per touchpoint, stage, channel, segment or survey: {key: {kind:
    Summary}}, only keys with answers. One query."""
    group = _DIMENSION_FIELDS[by]
    rows = _answer_groups(f, _keys(group, "kind"), source)
    result: dict[Any, dict[str, Summary]] = defaultdict(dict)
    for row in rows:
        result[row[group]][row["kind"]] = summary_of(row["kind"], row)
    return dict(result)


def by_touchpoint(
    f: MetricFilters, source: Source = "rollups"
) -> dict[int | None, dict[str, Summary]]:
    return breakdown(f, "touchpoint", source)


def breakdown_trends(
    f: MetricFilters, by: Dimension, bucket: Bucket = "month", source: Source = "rollups"
) -> dict[Any, dict[str, list[TrendPoint]]]:
    """Every kind's score per touchpoint (stage, channel, segment, survey) and per day, week
    or month: {key: {kind: [TrendPoint]}}. Only keys with answers; under a key, every kind and
    every bucket of the period (n=0 where there were none), as in `score_trends`. One query:
    the aggregates of `score_trends` and `breakdown`, grouped by both, so a cell is the number
    the dashboard shows for that bucket with that key as its filter."""
    group = _DIMENSION_FIELDS[by]
    found: dict[Any, dict[str, dict[date, Summary]]] = defaultdict(lambda: defaultdict(dict))
    for row in _trend_rows(f, bucket, group, "kind", source=source):
        found[row[group]][row["kind"]][row["bucket"]] = summary_of(row["kind"], row)
    return {
        key: {kind: _series(kinds.get(kind, {}), kind, f, bucket) for kind in KINDS}
        for key, kinds in found.items()
    }


def touchpoint_trends(
    f: MetricFilters, bucket: Bucket = "week", source: Source = "rollups"
) -> dict[int | None, list[TrendPoint]]:
    """Per touchpoint, all its answers' net score (% good − % bad, any kind) per bucket, for
    the journey map's sparklines. One query."""
    found: dict[int | None, dict[date, Summary]] = defaultdict(dict)
    for row in _trend_rows(f, bucket, "touchpoint_id", source=source):
        points = found[row["touchpoint_id"]]
        points[row["bucket"]] = points.get(row["bucket"], Summary("")) + summary_of("", row)
    return {tp: _series(points, "", f, bucket) for tp, points in found.items()}


# --- Response rate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """`hits` out of `n`; `minimum` is the sample below which the rate is not shown."""

    n: int
    hits: int
    minimum: int = MIN_SAMPLE

    @property
    def value(self) -> float | None:
        return 100.0 * self.hits / self.n if self.n else None

    @property
    def enough(self) -> bool:
        return self.n >= self.minimum


SENT_STATES = (InvitationState.SENT, InvitationState.RESPONDED, InvitationState.EXPIRED)


def response_rate(f: MetricFilters, source: Source = "rollups") -> Rate:
    """Of the survey invitations sent in the period, the share answered. Follow-ups are left
    out (their rate says how reachable complainers are, not how the journey is). One query."""
    raw = Invitation.objects.filter(
        filter_q(f, INVITATION_PATHS),
        purpose=InvitationPurpose.SURVEY,
        state__in=SENT_STATES,
        sent_at__isnull=False,
    ).order_by()
    days = rollup_days(f) if source == "rollups" else None
    cov = coverage() if days is not None else None
    rolled = None
    if days is not None and cov is not None:
        raw = raw.filter(marked_q("sent_at", cov))
        rolled = InvitationRollup.objects.filter(rollup_q(f, days, grain_for(f), cov)).order_by()
    sums = {"n": Count("id"), "hits": Count("id", filter=Q(state=InvitationState.RESPONDED))}
    everything: Key = (Value(1), Value(1))  # one group: constants are not grouped by
    rows = _grouped(
        raw, rolled, {"all": everything}, sums, {"n": Sum("sent"), "hits": Sum("answered")}
    )
    row = rows[0] if rows else {"n": 0, "hits": 0}
    return Rate(row["n"], row["hits"])


# --- Tickets and the loop -----------------------------------------------------------------------


@dataclass(frozen=True)
class TicketCounts:
    open: int
    overdue: int


def open_tickets(f: MetricFilters, *, now: datetime | None = None) -> TicketCounts:
    """Tickets open now (the period does not apply: it is the queue as it stands). One query."""
    now = now or timezone.now()
    row = (
        Ticket.objects.open()
        .filter(filter_q(f, TICKET_PATHS, period=False))
        .order_by()
        # COUNT(status), never null: a column of ticket_open_counts_idx, so the count is read
        # from that index alone (COUNT(id) would visit every open ticket's row).
        .aggregate(open=Count("status"), overdue=Count("status", filter=overdue_q(now)))
    )
    return TicketCounts(row["open"], row["overdue"])


def open_tickets_by_touchpoint(
    f: MetricFilters, *, now: datetime | None = None
) -> dict[int | None, TicketCounts]:
    now = now or timezone.now()
    rows = (
        Ticket.objects.open()
        .filter(filter_q(f, TICKET_PATHS, period=False))
        .order_by()
        .values("touchpoint_id")
        .annotate(open=Count("status"), overdue=Count("status", filter=overdue_q(now)))
    )
    return {r["touchpoint_id"]: TicketCounts(r["open"], r["overdue"]) for r in rows}


# --- The journey map ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TouchpointCard:
    touchpoint: Touchpoint
    scores: dict[str, Summary]  # only the kinds answered at this touchpoint
    overall: Summary  # all its answers, any kind: colours the card
    previous: Summary  # the same over the period before
    trend: list[TrendPoint]
    interactions: int
    tickets: TicketCounts

    @property
    def delta(self) -> float | None:
        """Change of the net score since the previous period, when both are worth reading."""
        if not (self.overall.enough and self.previous.enough):
            return None
        assert self.overall.net is not None and self.previous.net is not None
        return self.overall.net - self.previous.net


@dataclass(frozen=True)
class StageColumn:
    stage: str
    label: str
    cards: list[TouchpointCard]
    overall: Summary


def journey_map(
    f: MetricFilters,
    *,
    bucket: Bucket = "week",
    now: datetime | None = None,
    source: Source = "rollups",
) -> list[StageColumn]:
    """The six stages in journey order, each with its touchpoints' cards. Six queries whatever
    the data: touchpoints, scores now, scores before, trends, interactions, open tickets.
    Touchpoints that are inactive and had no answers in the period are left out."""
    now = now or timezone.now()
    touchpoints = list(Touchpoint.objects.order_by("stage", "name"))
    with one_coverage():
        scores = by_touchpoint(f, source)
        previous_f = f.previous()
        before = by_touchpoint(previous_f, source) if previous_f is not None else {}
        trends = touchpoint_trends(f, bucket, source)
    volume = dict(
        Interaction.objects.filter(filter_q(f, INTERACTION_PATHS))
        .order_by()
        .values_list("touchpoint_id")
        .annotate(n=Count("id"))
    )
    tickets = open_tickets_by_touchpoint(f, now=now)
    empty_trend = _series({}, "", f, bucket)
    columns: dict[str, list[TouchpointCard]] = {stage.value: [] for stage in JourneyStage}
    for tp in touchpoints:
        tp_scores = scores.get(tp.pk, {})
        if not tp.active and not tp_scores:
            continue
        if f.touchpoints and tp.pk not in f.touchpoints:
            continue
        columns.setdefault(tp.stage, []).append(
            TouchpointCard(
                touchpoint=tp,
                scores={k: tp_scores[k] for k in KINDS if k in tp_scores},
                overall=sum(tp_scores.values(), Summary("")),
                previous=sum(before.get(tp.pk, {}).values(), Summary("")),
                trend=trends.get(tp.pk, empty_trend),
                interactions=volume.get(tp.pk, 0),
                tickets=tickets.get(tp.pk, TicketCounts(0, 0)),
            )
        )
    labels = dict(JourneyStage.choices)
    return [
        StageColumn(
            stage,
            labels.get(stage, stage),
            cards,
            sum((c.overall for c in cards), Summary("")),
        )
        for stage, cards in columns.items()
    ]
