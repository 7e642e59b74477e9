"""The API's filters of surveys, invitations and answers (one FilterSet per list)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet

from cxcrm.api.views import IdFilter, SmallIntFilter, UtcDateTimeFilter
from feedback.surveys.models import (
    Invitation,
    InvitationPurpose,
    InvitationState,
    Response,
    ResponseChannel,
    Survey,
)
from feedback.surveys.scoring import Category, SurveyKind


class SurveyFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=SurveyKind.choices)
    active = filters.BooleanFilter()

    class Meta:
        model = Survey
        fields: list[str] = []


class InvitationFilter(filters.FilterSet):
    survey = IdFilter(field_name="survey_id")
    customer = IdFilter(field_name="customer_id")
    interaction = IdFilter(field_name="interaction_id")
    state = filters.MultipleChoiceFilter(choices=InvitationState.choices)
    purpose = filters.ChoiceFilter(choices=InvitationPurpose.choices)
    scheduled_after = UtcDateTimeFilter(field_name="scheduled_for", lookup_expr="gte")
    scheduled_before = UtcDateTimeFilter(field_name="scheduled_for", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Invitation
        fields: list[str] = []


class ResponseFilter(filters.FilterSet):
    survey = IdFilter(field_name="survey_id")
    customer = IdFilter(field_name="customer_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    touchpoint = filters.CharFilter(field_name="touchpoint__slug")
    kind = filters.ChoiceFilter(choices=SurveyKind.choices)
    category = filters.MultipleChoiceFilter(choices=Category.choices)
    channel = filters.ChoiceFilter(choices=ResponseChannel.choices)
    score_min = SmallIntFilter(field_name="score", lookup_expr="gte")
    score_max = SmallIntFilter(field_name="score", lookup_expr="lte")
    submitted_after = UtcDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = UtcDateTimeFilter(field_name="submitted_at", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    has_comment = filters.BooleanFilter(field_name="comment", method="filter_has_comment")

    class Meta:
        model = Response
        fields: list[str] = []

    # django-filter calls a method only with a value, never None; the hint types the schema.
    def filter_has_comment(
        self, queryset: QuerySet[Response], name: str, value: bool
    ) -> QuerySet[Response]:
        return queryset.exclude(comment="") if value else queryset.filter(comment="")
