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
    kind = filters.ChoiceFilter(choices=SurveyKind.choices, help_text="NPS, CSAT or CES.")
    active = filters.BooleanFilter(help_text="true: sending; false: stopped.")

    class Meta:
        model = Survey
        fields: list[str] = []


class InvitationFilter(filters.FilterSet):
    survey = IdFilter(field_name="survey_id", help_text="The survey's id.")
    customer = IdFilter(field_name="customer_id", help_text="The customer's id (ours).")
    interaction = IdFilter(
        field_name="interaction_id", help_text="The interaction that triggered it (its id)."
    )
    state = filters.MultipleChoiceFilter(
        choices=InvitationState.choices, help_text="One or more states (repeat the parameter)."
    )
    purpose = filters.ChoiceFilter(
        choices=InvitationPurpose.choices,
        help_text="A survey after an interaction, or a recovery follow-up after a ticket.",
    )
    scheduled_after = UtcDateTimeFilter(
        field_name="scheduled_for",
        lookup_expr="gte",
        help_text="Due to be sent at or after (ISO 8601).",
    )
    scheduled_before = UtcDateTimeFilter(
        field_name="scheduled_for", lookup_expr="lt", help_text="Due to be sent before (ISO 8601)."
    )
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after (ISO 8601): for an incremental sync.",
    )

    class Meta:
        model = Invitation
        fields: list[str] = []


class ResponseFilter(filters.FilterSet):
    survey = IdFilter(field_name="survey_id", help_text="The survey's id.")
    customer = IdFilter(field_name="customer_id", help_text="The customer's id (ours).")
    customer_external_id = filters.CharFilter(
        field_name="customer__external_id", help_text="The customer's external id (yours)."
    )
    touchpoint = filters.CharFilter(
        field_name="touchpoint__slug", help_text="The slug of the touchpoint answered about."
    )
    kind = filters.ChoiceFilter(choices=SurveyKind.choices, help_text="NPS, CSAT or CES.")
    category = filters.MultipleChoiceFilter(
        choices=Category.choices,
        help_text="One or more categories (repeat the parameter), e.g. `detractor`.",
    )
    channel = filters.ChoiceFilter(
        choices=ResponseChannel.choices, help_text="How the answer came in."
    )
    score_min = SmallIntFilter(field_name="score", lookup_expr="gte", help_text="Score at least.")
    score_max = SmallIntFilter(field_name="score", lookup_expr="lte", help_text="Score at most.")
    submitted_after = UtcDateTimeFilter(
        field_name="submitted_at", lookup_expr="gte", help_text="Answered at or after (ISO 8601)."
    )
    submitted_before = UtcDateTimeFilter(
        field_name="submitted_at", lookup_expr="lt", help_text="Answered before (ISO 8601)."
    )
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Answered or changed at or after (ISO 8601): for an incremental sync.",
    )
    has_comment = filters.BooleanFilter(
        field_name="comment",
        method="filter_has_comment",
        help_text="true: only answers with a comment; false: only those without.",
    )

    class Meta:
        model = Response
        fields: list[str] = []

    # django-filter calls a method only with a value, never None; the hint types the schema.
    def filter_has_comment(
        self, queryset: QuerySet[Response], name: str, value: bool
    ) -> QuerySet[Response]:
        return queryset.exclude(comment="") if value else queryset.filter(comment="")
