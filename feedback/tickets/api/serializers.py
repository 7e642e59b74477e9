"""The API's shapes of tickets, their messages and root causes, and the input of each ticket
command."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from cxcrm.api.views import (
    NulFreeCharField,
    SingleLineCharField,
    SiteDateTimeField,
    StrictBooleanField,
)
from feedback.surveys.api.serializers import customer_of, touchpoint_by_slug
from feedback.tickets.models import RootCause, Ticket, TicketMessage, TicketPriority, TicketStatus

MAX_BODY_CHARS = 20000


def staff_queryset() -> Any:
    return get_user_model().objects.filter(is_active=True, is_staff=True)


class TicketSerializer(serializers.ModelSerializer):
    # Related rows by their id column: the same numbers, without reaching through the relation.
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    response = serializers.IntegerField(source="response_id", read_only=True, allow_null=True)
    touchpoint = serializers.IntegerField(source="touchpoint_id", read_only=True, allow_null=True)
    root_cause = serializers.IntegerField(source="root_cause_id", read_only=True, allow_null=True)
    assignee = serializers.CharField(
        source="assignee.username", default=None, read_only=True, allow_null=True
    )
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: SiteDateTimeField,
    }

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
    customer_external_id = SingleLineCharField(max_length=191, required=False)
    subject = SingleLineCharField(max_length=255)
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
        attrs["customer"] = customer_of(attrs)
        if "touchpoint" in attrs:
            attrs["touchpoint"] = touchpoint_by_slug(attrs["touchpoint"])
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
        fields = ["id", "slug", "name", "description", "active"]
        read_only_fields = fields


class RootCauseWriteSerializer(serializers.Serializer):
    """POST /root-causes/: create the root cause with this slug or update the fields sent (a
    new one needs a name; names are unique). PATCH takes the same fields, slug included."""

    slug = serializers.SlugField(max_length=80)
    name = SingleLineCharField(max_length=120, required=False)
    description = NulFreeCharField(max_length=5000, required=False, allow_blank=True)
    active = StrictBooleanField(required=False)


class RootCauseUpdateSerializer(RootCauseWriteSerializer):
    slug = serializers.SlugField(max_length=80, required=False)
