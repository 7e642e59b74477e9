"""GET /api/v1/metrics/: the dashboard's numbers (feedback.metrics, one SQL query per figure)
for integrators: NPS, CSAT and CES, the response rate and the loop KPIs over a period, and the
scores grouped by day, week or month, or by touchpoint, stage, channel, segment or survey."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.views import ApiViewSet, NulFreeCharField
from feedback import metrics
from touchpoints.models import Channel, JourneyStage, Touchpoint

GROUPS = ["none", *metrics.BUCKETS, "touchpoint", "stage", "channel", "segment", "survey"]
MAX_DAYS = 3 * 366


class MetricsQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False, help_text="First day (default: 30 days ago).")
    until = serializers.DateField(required=False, help_text="Last day, included (default: today).")
    group_by = serializers.ChoiceField(choices=GROUPS, required=False, default="none")
    touchpoint = serializers.ListField(child=serializers.SlugField(max_length=80), required=False)
    stage = serializers.ChoiceField(choices=JourneyStage.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    segment = NulFreeCharField(max_length=64, required=False)
    survey = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        until = attrs.get("until") or timezone.localdate()
        since = attrs.get("since") or until - timedelta(days=29)
        if since > until:
            raise serializers.ValidationError({"since": "since must not be after until."})
        if (until - since).days > MAX_DAYS:
            raise serializers.ValidationError({"since": f"At most {MAX_DAYS} days at a time."})
        return {**attrs, "since": since, "until": until}


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


def _duration(d: metrics.Duration) -> dict[str, Any]:
    return {"n": d.n, "median_seconds": d.median_seconds, "enough": d.enough}


def _key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


class MetricsViewSet(ApiViewSet):
    """Same numbers as the dashboard (feedback.metrics); a score with fewer than 30 answers
    says ``enough: false``."""

    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:  # no rows: every figure is an aggregate query
        return Touchpoint.objects.none()

    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The figures.")},
    )
    def list(self, request: Request) -> Response:
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        slugs = q.get("touchpoint") or []
        touchpoints = tuple(Touchpoint.objects.filter(slug__in=slugs).values_list("id", flat=True))
        if slugs and not touchpoints:
            raise serializers.ValidationError({"touchpoint": "No such touchpoint."})
        f = metrics.MetricFilters.between(
            q["since"],
            q["until"],
            touchpoints=touchpoints,
            stage=q.get("stage", ""),
            segment=q.get("segment", ""),
            survey=q.get("survey"),
            channel=q.get("channel", ""),
        )
        loop = metrics.loop_kpis(f)
        body: dict[str, Any] = {
            "since": q["since"].isoformat(),
            "until": q["until"].isoformat(),
            "scores": {k: _summary(s) for k, s in metrics.score_summaries(f).items()},
            "response_rate": _rate(metrics.response_rate(f)),
            "loop": {
                "within_sla": _rate(loop.within_sla),
                "first_contact": _duration(loop.first_contact),
                "resolve": _duration(loop.resolve),
                "recovery": _rate(loop.recovery),
            },
        }
        group = q["group_by"]
        if group in metrics.BUCKETS:
            trends = metrics.score_trends(f, group)
            starts = sorted({p.start for points in trends.values() for p in points})
            by_start = {
                kind: {p.start: _summary(p.summary) for p in points}
                for kind, points in trends.items()
            }
            body["groups"] = [
                {"key": start.isoformat(), "scores": {k: v.get(start) for k, v in by_start.items()}}
                for start in starts
            ]
        elif group != "none":
            body["groups"] = [
                {"key": _key(key), "scores": {k: _summary(s) for k, s in kinds.items()}}
                for key, kinds in metrics.breakdown(f, group).items()
            ]
        return Response(body)
