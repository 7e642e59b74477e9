from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from customers.models import Customer
from customers.selectors import customer_resolve_many
from cxcrm.api.views import NulFreeCharField
from feedback.surveys.models import Invitation, Response, ResponseChannel, Survey
from feedback.surveys.services.responses import MAX_COMMENT_CHARS
from feedback.tickets.models import RootCause, Ticket, TicketMessage, TicketPriority, TicketStatus
from touchpoints.models import JourneyStage, Touchpoint
from touchpoints.selectors import touchpoint_resolve_many

MAX_BODY_CHARS = 20000


def _customer(attrs: dict[str, Any]) -> Customer:
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


def _touchpoint(slug: str) -> Touchpoint:
    touchpoint = touchpoint_resolve_many([slug]).get(slug)
    if touchpoint is None:
        raise serializers.ValidationError({"touchpoint": "No touchpoint with this slug."})
    return touchpoint


class SurveySerializer(serializers.ModelSerializer):
    trigger_touchpoints = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    delay_seconds = serializers.SerializerMethodField()
    loop_categories = serializers.ListField(child=serializers.CharField(), read_only=True)
    trigger_stage = serializers.ChoiceField(
        choices=JourneyStage.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Survey
        fields = [
            "id",
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
            "loop_categories",
            "sla_hours",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_delay_seconds(self, survey: Survey) -> int:
        return int(survey.delay.total_seconds())


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


class ResponseCreateSerializer(serializers.Serializer):
    """An answer captured elsewhere (a kiosk, a review site): no invitation."""

    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    customer_external_id = NulFreeCharField(max_length=191, required=False)
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
        from feedback.surveys.scoring import ScoreError, categorize

        customer = _customer(attrs)
        touchpoint = _touchpoint(attrs["touchpoint"])
        try:
            categorize(attrs["survey"].kind, attrs["score"])
        except ScoreError as exc:
            raise serializers.ValidationError({"score": str(exc)}) from None
        return {**attrs, "customer": customer, "touchpoint": touchpoint}


def staff_queryset() -> Any:
    return get_user_model().objects.filter(is_active=True, is_staff=True)


class TicketSerializer(serializers.ModelSerializer):
    assignee = serializers.CharField(
        source="assignee.username", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "customer",
            "response",
            "touchpoint",
            "source",
            "subject",
            "status",
            "priority",
            "assignee",
            "due_at",
            "first_contact_at",
            "resolved_at",
            "escalated_at",
            "root_cause",
            "resolution",
            "recovered",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TicketCreateSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    customer_external_id = NulFreeCharField(max_length=191, required=False)
    subject = NulFreeCharField(max_length=255)
    touchpoint = serializers.SlugField(max_length=80, required=False)
    priority = serializers.ChoiceField(
        choices=TicketPriority.choices, required=False, default=TicketPriority.NORMAL
    )
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=staff_queryset(), required=False, allow_null=True
    )
    body = NulFreeCharField(max_length=MAX_BODY_CHARS, required=False, allow_blank=True)
    sla_hours = serializers.IntegerField(min_value=1, max_value=24 * 365, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["customer"] = _customer(attrs)
        if "touchpoint" in attrs:
            attrs["touchpoint"] = _touchpoint(attrs["touchpoint"])
        return attrs


class TicketUpdateSerializer(serializers.Serializer):
    """PATCH: the working fields. Resolve and reopen are actions of their own."""

    status = serializers.ChoiceField(
        choices=[s for s in TicketStatus.choices if s[0] != TicketStatus.RESOLVED], required=False
    )
    priority = serializers.ChoiceField(choices=TicketPriority.choices, required=False)
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=staff_queryset(), required=False, allow_null=True
    )


class TicketAssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=staff_queryset(), allow_null=True
    )


class TicketResolveSerializer(serializers.Serializer):
    root_cause = serializers.PrimaryKeyRelatedField(queryset=RootCause.objects.filter(active=True))
    resolution = NulFreeCharField(max_length=MAX_BODY_CHARS, required=False, allow_blank=True)
    send_followup = serializers.BooleanField(required=False, default=False)


class TicketReopenSerializer(serializers.Serializer):
    note = NulFreeCharField(max_length=1000, required=False, allow_blank=True, default="")


class TicketMessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(
        source="author.username", default=None, read_only=True, allow_null=True
    )
    from_email = serializers.CharField(read_only=True)  # blank on notes

    class Meta:
        model = TicketMessage
        fields = ["id", "direction", "author", "from_email", "body", "created_at"]
        read_only_fields = fields


class TicketMessageCreateSerializer(serializers.Serializer):
    """``reply`` emails the customer (threaded); ``note`` is internal."""

    kind = serializers.ChoiceField(choices=[("reply", "Reply"), ("note", "Internal note")])
    body = NulFreeCharField(max_length=MAX_BODY_CHARS)


class RootCauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = RootCause
        fields = ["id", "name", "description", "active"]
        read_only_fields = fields
