"""GET /api/v1/metrics/: the dashboard's numbers (feedback.reporting.metrics, one SQL query per
figure) for integrators: NPS, CSAT and CES, the response rate, the loop KPIs and the open and
overdue tickets over a period, and the scores grouped by day, week or month, or by touchpoint,
stage, channel, segment or survey, or by one of those and a day, week or month together
(``group_by=touchpoint&bucket=month``). The period and filters mean what they mean on the
dashboard: both read them through feedback.surveys.figures.query."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.views import ApiViewSet, NulFreeCharField
from feedback.reporting import coverage, metrics
from feedback.reporting import loop as loop_figures
from feedback.reporting.api_schema import MetricsSerializer
from feedback.surveys.figures import query
from touchpoints.models import Channel, JourneyStage, Touchpoint

DIMENSIONS = ["touchpoint", "stage", "channel", "segment", "survey"]
GROUPS = ["none", *metrics.BUCKETS, *DIMENSIONS]
FIELDS = ["scores", "response_rate", "loop", "tickets", "groups"]


class MetricsQuerySerializer(serializers.Serializer):
    """The parameters' types for the schema; what they mean is
    feedback.surveys.figures.query's, the dashboard's rule."""

    period = serializers.ChoiceField(
        choices=query.PERIODS,
        required=False,
        help_text=(
            "The last 7, 30, 90 or 365 days, today included; wins over since and until. "
            f"Without it and without dates: the last {query.DEFAULT_DAYS} days."
        ),
    )
    since = serializers.DateField(
        required=False,
        help_text=(
            f"First day (default: {query.DEFAULT_DAYS} days up to until). From "
            f"{query.EARLIEST.isoformat()}; at most {query.MAX_DAYS} days before until."
        ),
    )
    until = serializers.DateField(
        required=False, help_text="Last day, included (default: today); at most a year ahead."
    )
    group_by = serializers.ChoiceField(
        choices=GROUPS,
        required=False,
        default="none",
        help_text="Split the scores by time (day, week, month) or by a dimension.",
    )
    bucket = serializers.ChoiceField(
        choices=metrics.BUCKETS,
        required=False,
        help_text=(
            "With a group_by of touchpoint, stage, channel, segment or survey: each group's "
            "scores per day, week or month too (in the group's `buckets`)."
        ),
    )
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=FIELDS),
        required=False,
        help_text=(
            "Only these figures, each one query or more (repeat the parameter; default: all). "
            "since and until are always there."
        ),
    )
    touchpoint = serializers.ListField(
        child=serializers.SlugField(max_length=80),
        required=False,
        help_text="Touchpoint slugs (repeat the parameter); an unknown slug is a 400.",
    )
    stage = serializers.ChoiceField(
        choices=JourneyStage.choices, required=False, help_text="Journey stage."
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, help_text="The touchpoints' channel."
    )
    segment = NulFreeCharField(
        max_length=64,
        required=False,
        help_text="A customer segment; one that no customer is in is a 400.",
    )
    survey = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="A survey id; one that names no survey is a 400.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("bucket") and attrs.get("group_by") not in DIMENSIONS:
            raise serializers.ValidationError(
                {"bucket": f"Only with a group_by of {', '.join(DIMENSIONS)}."}
            )
        try:
            period, f = query.metrics_query(
                today=timezone.localdate(),
                period=attrs.get("period", ""),
                since=attrs.get("since"),
                until=attrs.get("until"),
                touchpoints=attrs.get("touchpoint") or (),
                stage=attrs.get("stage", ""),
                channel=attrs.get("channel", ""),
                segment=attrs.get("segment", ""),
                survey=attrs.get("survey"),
            )
        except DjangoValidationError as e:
            raise serializers.ValidationError(e.message_dict) from e
        return {**attrs, "since": period.since, "until": period.until, "filters": f}


def _summary(s: metrics.Summary) -> dict[str, Any]:
    return {
        "n": s.n,
        "enough": s.enough,
        "value": s.value,
        "margin": s.margin,
        "pct_good": s.pct_good,
        "pct_neutral": s.pct_neutral,
        "pct_bad": s.pct_bad,
        "mean": s.mean,
    }


def _rate(r: metrics.Rate) -> dict[str, Any]:
    return {"n": r.n, "hits": r.hits, "value": r.value, "enough": r.enough}


def _duration(d: loop_figures.Duration) -> dict[str, Any]:
    return {"n": d.n, "median_seconds": d.median_seconds, "enough": d.enough}


def _key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _buckets(trends: dict[str, list[metrics.TrendPoint]]) -> list[dict[str, Any]]:
    """[{key: bucket start, scores: {kind: summary}}]: every kind's series has the same
    buckets (the period's), so they are read side by side."""
    series = list(trends.items())
    starts = [p.start for p in series[0][1]] if series else []
    return [
        {
            "key": start.isoformat(),
            "scores": {kind: _summary(points[i].summary) for kind, points in series},
        }
        for i, start in enumerate(starts)
    ]


def _groups(f: metrics.MetricFilters, group: str, bucket: str | None) -> list[dict[str, Any]]:
    """The scores grouped by a bucket, a dimension, or a dimension and a bucket."""
    if group in metrics.BUCKETS:
        trends = metrics.score_trends(f, group)
        starts = sorted({p.start for points in trends.values() for p in points})
        by_start = {
            kind: {p.start: _summary(p.summary) for p in points} for kind, points in trends.items()
        }
        return [
            {"key": start.isoformat(), "scores": {k: v.get(start) for k, v in by_start.items()}}
            for start in starts
        ]
    if bucket:
        return [
            {"key": _key(key), "buckets": _buckets(kinds)}
            for key, kinds in metrics.breakdown_trends(f, group, bucket).items()
        ]
    return [
        {"key": _key(key), "scores": {k: _summary(s) for k, s in kinds.items()}}
        for key, kinds in metrics.breakdown(f, group).items()
    ]


class MetricsViewSet(ApiViewSet):
    """Same numbers as the dashboard (feedback.reporting.metrics); a score with fewer than 30
    answers
    says ``enough: false``."""

    pagination_class = None
    filter_backends: list[Any] = []
    # The dashboard's figures: the dashboard's permission (Manager, Admin).
    required_permissions = {"list": "feedback.view_dashboard"}

    def get_queryset(self) -> Any:  # no rows: every figure is an aggregate query
        return Touchpoint.objects.none()

    @extend_schema(
        summary="Read the metrics",
        description="NPS, CSAT and CES (`scores`: each kind's value, margin and shares), the "
        "response rate and the close-the-loop KPIs (`loop`: detractors contacted within the "
        "SLA, time to first contact and to resolve, recovery rate) and the tickets "
        "(`tickets`) over a `period` or from `since` to `until`: the same numbers as the "
        "dashboard, by the same rules. A figure with fewer than 30 answers says "
        "`enough: false`.\n\nFilter by touchpoint (repeat `touchpoint`), stage, channel, "
        "segment or survey; `group_by` splits the scores by day, week or month, or by "
        "touchpoint, stage, channel, segment or survey (with `bucket`, each group over time: "
        "`group_by=touchpoint&bucket=month`); `fields` asks for some figures only.",
        parameters=[MetricsQuerySerializer],
        responses={
            200: OpenApiResponse(
                MetricsSerializer,
                description=(
                    "The figures asked for. With a group_by, `groups`: [{key, scores}], or with "
                    "a bucket too [{key, buckets: [{key, scores}]}]; `scores` maps each kind "
                    "(nps, csat, ces) to its figures."
                ),
            )
        },
    )
    def list(self, request: Request) -> Response:
        params = MetricsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        f: metrics.MetricFilters = q["filters"]
        wanted = set(q.get("fields") or FIELDS)
        body: dict[str, Any] = {"since": q["since"].isoformat(), "until": q["until"].isoformat()}
        with coverage.one_coverage():
            if "scores" in wanted:
                body["scores"] = {k: _summary(s) for k, s in metrics.score_summaries(f).items()}
            if "response_rate" in wanted:
                body["response_rate"] = _rate(metrics.response_rate(f))
            if "loop" in wanted:
                loop = loop_figures.loop_kpis(f)
                body["loop"] = {
                    "within_sla": _rate(loop.within_sla),
                    "first_contact": _duration(loop.first_contact),
                    "resolve": _duration(loop.resolve),
                    "recovery": _rate(loop.recovery),
                }
            if "tickets" in wanted:
                # The queue as it stands (the period does not apply), as on the dashboard.
                tickets = metrics.open_tickets(f)
                body["tickets"] = {"open": tickets.open, "overdue": tickets.overdue}
            if "groups" in wanted and q["group_by"] != "none":
                body["groups"] = _groups(f, q["group_by"], q.get("bucket"))
        return Response(body)
