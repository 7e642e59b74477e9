"""The shape of GET /api/v1/metrics/'s answer, for the OpenAPI schema only: the view builds its
body from feedback.reporting.metrics itself, and these serializers tell clients (and their
generated types) what is in it. Optional parts are there when `fields` asks for them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers


class MetricsSummarySerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Answers counted.")
    enough = serializers.BooleanField(help_text="Enough answers (30) to show the score.")
    value = serializers.FloatField(
        allow_null=True, help_text="NPS −100…100, CSAT % satisfied, CES mean score."
    )
    margin = serializers.FloatField(
        allow_null=True, help_text="The 95% confidence half-width of value, in its unit."
    )
    pct_good = serializers.FloatField(allow_null=True)
    pct_neutral = serializers.FloatField(allow_null=True)
    pct_bad = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True, help_text="Mean score.")


class MetricsScoresSerializer(serializers.Serializer):
    """Each kind's figures. A breakdown lists only the kinds that had answers; a bucket with
    none of a kind's answers has null there."""

    nps = MetricsSummarySerializer(required=False, allow_null=True)
    csat = MetricsSummarySerializer(required=False, allow_null=True)
    ces = MetricsSummarySerializer(required=False, allow_null=True)


class MetricsRateSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    hits = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True, help_text="hits / n in %.")
    enough = serializers.BooleanField()


class MetricsDurationSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    enough = serializers.BooleanField()


class MetricsLoopSerializer(serializers.Serializer):
    within_sla = MetricsRateSerializer(help_text="Detractors contacted within the SLA.")
    first_contact = MetricsDurationSerializer(help_text="Time to first contact.")
    resolve = MetricsDurationSerializer(help_text="Time to resolve.")
    recovery = MetricsRateSerializer(help_text="Follow-up answers back in the good category.")


class MetricsBucketSerializer(serializers.Serializer):
    key = serializers.DateField(help_text="The first day of the day, week or month.")
    scores = MetricsScoresSerializer()


# A bucket's first day, a touchpoint or survey id, or a stage, channel or segment (null for
# answers without a touchpoint).
@extend_schema_field({"oneOf": [{"type": "string", "nullable": True}, {"type": "integer"}]})
class MetricsGroupKeyField(serializers.Field):
    pass


class MetricsGroupSerializer(serializers.Serializer):
    key = MetricsGroupKeyField()
    scores = MetricsScoresSerializer(required=False, help_text="Without a bucket.")
    buckets = MetricsBucketSerializer(many=True, required=False, help_text="With a bucket.")


class MetricsTicketsSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="Tickets open now.")
    overdue = serializers.IntegerField(help_text="Open tickets past their due time now.")


# One object, though the view's action is "list" (which drf-spectacular would make an array).
@extend_schema_serializer(many=False)
class MetricsSerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    scores = MetricsScoresSerializer(required=False)
    response_rate = MetricsRateSerializer(required=False)
    loop = MetricsLoopSerializer(required=False)
    groups = MetricsGroupSerializer(many=True, required=False, help_text="With a group_by.")
    tickets = MetricsTicketsSerializer(required=False)
