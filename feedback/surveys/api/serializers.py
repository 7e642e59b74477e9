"""The API's shapes of surveys, invitations and answers (read, and an answer captured
elsewhere), and the references they resolve."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from customers.models import Customer
from customers.selectors import customer_resolve_many
from cxcrm.api.views import NulFreeCharField, SingleLineCharField, StrictBooleanField
from feedback.surveys.models import Invitation, Response, ResponseChannel, Survey
from feedback.surveys.scoring import Category, ScoreError, SurveyKind, categorize
from feedback.surveys.services.responses import MAX_COMMENT_CHARS
from touchpoints.models import JourneyStage, Touchpoint
from touchpoints.selectors import touchpoint_resolve_many


def customer_of(attrs: dict[str, Any]) -> Customer:
    """The customer named by exactly one of ``customer`` (our id) or ``customer_external_id``
    (popped from ``attrs``), resolved by the customers' one rule."""
    if ("customer" in attrs) == ("customer_external_id" in attrs):
        raise serializers.ValidationError(
            {"customer": "Give exactly one of customer or customer_external_id."}
        )
    ref = attrs.pop("customer") if "customer" in attrs else attrs.pop("customer_external_id")
    customer = customer_resolve_many([ref]).get(ref)
    if customer is None:
        raise serializers.ValidationError({"customer": "No such customer."})
    return customer


def touchpoint_by_slug(slug: str) -> Touchpoint:
    touchpoint = touchpoint_resolve_many([slug]).get(slug)
    if touchpoint is None:
        raise serializers.ValidationError({"touchpoint": "No touchpoint with this slug."})
    return touchpoint


class SurveySerializer(serializers.ModelSerializer):
    trigger_touchpoints = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    delay_seconds = serializers.SerializerMethodField()
    ticket_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), read_only=True
    )
    loop_categories = serializers.ListField(child=serializers.CharField(), read_only=True)
    trigger_stage = serializers.ChoiceField(
        choices=JourneyStage.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Survey
        fields = [
            "id",
            "slug",
            "name",
            "kind",
            "active",
            "trigger_touchpoints",
            "trigger_stage",
            "delay_seconds",
            "reminder_after_days",
            "expires_after_days",
            "contact_frequency_days",
            "sample_percent",
            "default_language",
            "texts",
            "loop_enabled",
            "ticket_categories",
            "loop_categories",
            "sla_hours",
            "acknowledge_customer",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_delay_seconds(self, survey: Survey) -> int:
        return int(survey.delay.total_seconds())


SMALL = 32767  # PositiveSmallIntegerField's top
MAX_TRIGGERS = 200
MAX_DELAY_SECONDS = 366 * 86400


class SurveyWriteSerializer(serializers.Serializer):
    """POST /surveys/: create the survey with this slug or update the fields sent (a new one
    needs name, kind and texts). PATCH takes the same fields, slug included. Texts, follow-ups
    and ticket categories are checked by the survey's own rules, as in the admin; errors name
    the language and key (``texts: ["pl.subject: required ..."]``)."""

    slug = serializers.SlugField(max_length=80)
    name = SingleLineCharField(max_length=120, required=False)
    kind = serializers.ChoiceField(choices=SurveyKind.choices, required=False)
    active = StrictBooleanField(required=False)
    trigger_touchpoints = serializers.ListField(
        child=serializers.SlugField(max_length=80),
        max_length=MAX_TRIGGERS,
        required=False,
        help_text="Slugs: an interaction at one of these touchpoints invites the customer "
        "(replaces the set).",
    )
    trigger_stage = serializers.ChoiceField(
        choices=JourneyStage.choices,
        required=False,
        allow_blank=True,
        help_text="Or: an interaction at any touchpoint of this journey stage.",
    )
    delay_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DELAY_SECONDS,
        required=False,
        help_text="Time after the interaction before the email goes.",
    )
    reminder_after_days = serializers.IntegerField(
        min_value=0, max_value=SMALL, required=False, allow_null=True, help_text="null: none."
    )
    expires_after_days = serializers.IntegerField(min_value=1, max_value=SMALL, required=False)
    contact_frequency_days = serializers.IntegerField(
        min_value=0,
        max_value=SMALL,
        required=False,
        allow_null=True,
        help_text="No new invitation within this many days; null: the global rule.",
    )
    sample_percent = serializers.IntegerField(min_value=1, max_value=100, required=False)
    default_language = serializers.CharField(max_length=16, required=False)
    texts = serializers.DictField(
        required=False,
        help_text='Per language: {"en": {"subject": ..., "question": ..., "intro": ..., '
        '"followup": {"detractor": ..., "passive": ..., "promoter": ...}}}; subject and '
        "question are required.",
    )
    loop_enabled = StrictBooleanField(required=False)
    ticket_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices),
        max_length=len(Category.choices),
        required=False,
        help_text="Answer categories that open a ticket; empty: the kind's unhappy band.",
    )
    sla_hours = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    acknowledge_customer = StrictBooleanField(required=False)

    def validate_trigger_touchpoints(self, slugs: list[str]) -> list[Touchpoint]:
        found = touchpoint_resolve_many(slugs)
        unknown = [slug for slug in slugs if slug not in found]
        if unknown:
            raise serializers.ValidationError(f"No touchpoint with slug: {', '.join(unknown)}.")
        return list({found[slug].pk: found[slug] for slug in slugs}.values())

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "delay_seconds" in attrs:
            attrs["delay"] = timedelta(seconds=attrs.pop("delay_seconds"))
        return attrs


class SurveyUpdateSerializer(SurveyWriteSerializer):
    slug = serializers.SlugField(max_length=80, required=False)


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = [
            "id",
            "survey",
            "customer",
            "interaction",
            "ticket",
            "purpose",
            "state",
            "scheduled_for",
            "sent_at",
            "reminded_at",
            "expires_at",
            "attempts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# "Response" is the name client generators give their own HTTP response type
# (openapi-python-client's types.Response): the component is named for what it is.
@extend_schema_serializer(component_name="SurveyResponse")
class ResponseSerializer(serializers.ModelSerializer):
    ticket = serializers.SerializerMethodField()

    class Meta:
        model = Response
        fields = [
            "id",
            "invitation",
            "survey",
            "kind",
            "customer",
            "touchpoint",
            "score",
            "category",
            "comment",
            "answers",
            "language",
            "channel",
            "submitted_at",
            "updated_at",
            "ticket",
        ]
        read_only_fields = fields

    def get_ticket(self, response: Response) -> int | None:
        ticket = getattr(response, "ticket", None)  # joined by the selector; None if absent
        return ticket.pk if ticket is not None else None


@extend_schema_serializer(component_name="SurveyResponseCreate")
class ResponseCreateSerializer(serializers.Serializer):
    """An answer captured elsewhere (a kiosk, a review site): no invitation."""

    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    customer_external_id = SingleLineCharField(max_length=191, required=False)
    touchpoint = serializers.SlugField(max_length=80)
    score = serializers.IntegerField(min_value=-100, max_value=100)
    submitted_at = serializers.DateTimeField()
    comment = NulFreeCharField(
        max_length=MAX_COMMENT_CHARS, required=False, allow_blank=True, default=""
    )
    answers = serializers.DictField(required=False, default=dict)
    language = NulFreeCharField(max_length=16, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(
        choices=ResponseChannel.choices, required=False, default=ResponseChannel.API
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        customer = customer_of(attrs)
        touchpoint = touchpoint_by_slug(attrs["touchpoint"])
        try:
            categorize(attrs["survey"].kind, attrs["score"])
        except ScoreError as exc:
            raise serializers.ValidationError({"score": str(exc)}) from None
        return {**attrs, "customer": customer, "touchpoint": touchpoint}
