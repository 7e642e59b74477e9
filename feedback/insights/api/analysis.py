"""GET /api/v1/insights/topics/metrics/ and GET /api/v1/insights/drivers/: what customers talk
about and what moves the score, for integrators (feedback.insights.analysis: the dashboard's
figures, by its rules). cxcrm.urls includes `urlpatterns` under /api/v1/.

The parameters mean what they mean on /api/v1/metrics/ (the last 7/30/90/365 days, or
since/until, 90 days by default; unknown touchpoints and segments refused): both read them
through feedback.surveys.figures.query.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.views import ApiViewSet, NulFreeCharField
from feedback.insights import analysis
from feedback.insights.analysis import Driver, TopicFigures
from feedback.surveys.figures import query
from feedback.surveys.figures.scores import Summary
from feedback.surveys.scoring import SurveyKind
from touchpoints.models import Touchpoint

PERMISSION = "feedback.view_dashboard"  # the dashboard's figures: Managers and Admins


class ScopeQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=query.PERIODS,
        required=False,
        help_text="The last 7, 30, 90 or 365 days, today included; wins over since and until. "
        f"Without it and without dates: the last {query.DEFAULT_DAYS} days.",
    )
    since = serializers.DateField(required=False, help_text="First day (included).")
    until = serializers.DateField(required=False, help_text="Last day, included (default: today).")
    touchpoint = serializers.ListField(
        child=serializers.SlugField(max_length=80),
        required=False,
        help_text="Touchpoint slugs (repeat the parameter); an unknown slug is a 400.",
    )
    segment = NulFreeCharField(
        max_length=64, required=False, help_text="A customer segment; an unknown one is a 400."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            period, f = query.metrics_query(
                today=timezone.localdate(),
                period=attrs.get("period", ""),
                since=attrs.get("since"),
                until=attrs.get("until"),
                touchpoints=attrs.get("touchpoint") or (),
                segment=attrs.get("segment", ""),
            )
        except DjangoValidationError as e:
            raise serializers.ValidationError(e.message_dict) from e
        return {**attrs, "first": period.since, "last": period.until, "scope": f}


class TopicMetricsQuerySerializer(ScopeQuerySerializer):
    group_by = serializers.ChoiceField(
        choices=["none", "touchpoint"],
        required=False,
        default="none",
        help_text="touchpoint: one row per touchpoint and topic.",
    )


class DriversQuerySerializer(ScopeQuerySerializer):
    kind = serializers.ChoiceField(
        choices=[k.value for k in SurveyKind],
        required=False,
        default=SurveyKind.NPS.value,
        help_text="The score whose drivers are read (default nps).",
    )


# --- The answers' shapes (for the schema) -------------------------------------------------------


class ScoreSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Answers mentioning the topic.")
    enough = serializers.BooleanField(help_text="30 answers or more: the value can be read.")
    value = serializers.FloatField(
        allow_null=True, help_text="NPS −100…100, CSAT % satisfied, CES mean score."
    )
    pct_good = serializers.FloatField(allow_null=True)
    pct_bad = serializers.FloatField(allow_null=True)


class TopicRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class WeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The week's Monday.")
    volume = serializers.IntegerField()


class TopicRowSerializer(serializers.Serializer):
    topic = TopicRefSerializer()
    touchpoint = serializers.CharField(
        allow_null=True, required=False, help_text="With group_by=touchpoint: its slug."
    )
    volume = serializers.IntegerField(help_text="Comments mentioning the topic.")
    negative = serializers.IntegerField(help_text="Of those, read as negative.")
    positive = serializers.IntegerField()
    share = serializers.FloatField(
        allow_null=True, help_text="% of the analysed comments (of the touchpoint's, grouped)."
    )
    scores = serializers.DictField(child=ScoreSerializer(), help_text="nps, csat, ces.")
    trend = WeekSerializer(many=True)


# One object, not a list: the views answer a `list` action with a single body.
@extend_schema_serializer(many=False)
class TopicMetricsSerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    topics = TopicRowSerializer(many=True)


class DriverSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    n = serializers.IntegerField(help_text="Answers mentioning it (given at it).")
    n_others = serializers.IntegerField()
    share = serializers.FloatField(help_text="% of the answers.")
    enough = serializers.BooleanField(help_text="Both sides have the minimum sample.")
    net = serializers.FloatField(allow_null=True, help_text="Their net score (NPS).")
    net_others = serializers.FloatField(allow_null=True)
    effect = serializers.FloatField(allow_null=True, help_text="net − net_others, in points.")
    effect_low = serializers.FloatField(allow_null=True)
    effect_high = serializers.FloatField(allow_null=True)
    risk = serializers.FloatField(
        allow_null=True, help_text="Their % of bad answers (detractors) − the others', points."
    )
    risk_low = serializers.FloatField(allow_null=True)
    risk_high = serializers.FloatField(allow_null=True)
    impact = serializers.FloatField(
        allow_null=True, help_text="effect × share: points the overall score moves by it."
    )
    significant = serializers.BooleanField(help_text="The effect's 95% interval leaves out 0.")


@extend_schema_serializer(many=False)
class DriversSerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    kind = serializers.CharField()
    minimum = serializers.IntegerField(help_text="Answers needed on each side.")
    topics = DriverSerializer(many=True)
    touchpoints = DriverSerializer(many=True)


# --- Views --------------------------------------------------------------------------------------


def _score(c: Summary) -> dict[str, Any]:
    return {
        "n": c.n,
        "enough": c.enough,
        "value": c.value if c.enough else None,
        "pct_good": c.pct_good if c.enough else None,
        "pct_bad": c.pct_bad if c.enough else None,
    }


def _topic_row(f: TopicFigures, grouped: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"topic": {"id": f.topic_id, "slug": f.slug, "name": f.name}}
    if grouped:
        row["touchpoint"] = f.touchpoint_slug
    return {
        **row,
        "volume": f.volume,
        "negative": f.negative,
        "positive": f.positive,
        "share": f.share,
        "scores": {k: _score(c) for k, c in f.scores.items()},
        "trend": [{"week": w.isoformat(), "volume": n} for w, n in f.trend],
    }


def _driver(d: Driver) -> dict[str, Any]:
    return {
        "id": d.key,
        "slug": d.slug,
        "name": d.name,
        "n": d.n,
        "n_others": d.n_others,
        "share": d.share,
        "enough": d.enough,
        **{
            name: getattr(d, name)
            for name in (
                "net",
                "net_others",
                "effect",
                "effect_low",
                "effect_high",
                "risk",
                "risk_low",
                "risk_high",
                "impact",
            )
        },
        "significant": d.significant,
    }


class _AnalysisView(ApiViewSet):
    pagination_class = None
    filter_backends: list[Any] = []
    required_permissions = {"list": PERMISSION}

    def get_queryset(self) -> Any:  # no rows: every figure is an aggregate query
        return Touchpoint.objects.none()


class TopicMetricsViewSet(_AnalysisView):
    @extend_schema(
        summary="Read the per-topic metrics",
        description="Per topic of the taxonomy (most mentioned first), over a `period` or from "
        "`since` to `until`: comments mentioning it, how many read negative or positive, "
        "their share of the analysed comments, the NPS/CSAT/CES of the survey answers "
        "mentioning it (a score with fewer than 30 answers says `enough: false` and null) "
        "and the comments per week. `group_by=touchpoint`: per touchpoint and topic.",
        parameters=[TopicMetricsQuerySerializer],
        responses={200: OpenApiResponse(TopicMetricsSerializer)},
    )
    def list(self, request: Request) -> Response:
        params = TopicMetricsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        grouped = q["group_by"] == "touchpoint"
        rows = analysis.topic_metrics(q["scope"], by_touchpoint=grouped)
        return Response(
            {
                "since": q["first"].isoformat(),
                "until": q["last"].isoformat(),
                "topics": [_topic_row(f, grouped) for f in rows],
            }
        )


class DriversViewSet(_AnalysisView):
    @extend_schema(
        summary="Read the key drivers",
        description="Which topics and touchpoints move the score (`kind`, default nps). Per "
        "topic, the survey answers whose comment mentions it against the other commented "
        "answers; per touchpoint, its answers against all the others. `effect`: the "
        "difference of net score (NPS) with a 95% interval (normal approximation); `risk`: "
        "the difference of the share of bad answers (detractors) with Newcombe's 95% "
        "interval; `impact` = effect × share. Below 30 answers on either side the figures "
        "are null (`enough: false`). Biggest impact first.",
        parameters=[DriversQuerySerializer],
        responses={200: OpenApiResponse(DriversSerializer)},
    )
    def list(self, request: Request) -> Response:
        params = DriversQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        scope, kind = q["scope"], q["kind"]
        figures = analysis.topic_metrics(scope, trend=False)
        topics = analysis.topic_drivers(figures, analysis.totals(scope), kind)
        counts, names = analysis.touchpoint_counts(scope, kind)
        touchpoints = analysis.touchpoint_drivers(counts, names)
        return Response(
            {
                "since": q["first"].isoformat(),
                "until": q["last"].isoformat(),
                "kind": kind,
                "minimum": analysis.MIN_DRIVER_SAMPLE,
                "topics": [_driver(d) for d in topics],
                "touchpoints": [_driver(d) for d in touchpoints],
            }
        )


# Under /api/v1/ (cxcrm.urls includes them beside the router's insights routes).
urlpatterns = [
    path(
        "insights/topics/metrics/",
        TopicMetricsViewSet.as_view({"get": "list"}),
        name="insights-topic-metrics",
    ),
    path("insights/drivers/", DriversViewSet.as_view({"get": "list"}), name="insights-drivers"),
]
