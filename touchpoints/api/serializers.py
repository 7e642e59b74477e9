from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from cxcrm.api.views import (
    NulFreeCharField,
    SingleLineCharField,
    SiteDateTimeField,
    StrictBooleanField,
)
from touchpoints.models import Channel, Interaction, JourneyStage, Ownership, Touchpoint

MAX_BULK = 1000
MAX_METADATA_KEYS = 100


class TouchpointSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(
        source="owner.username", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "stage",
            "channel",
            "ownership",
            "owner_team",
            "owner",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TouchpointWriteSerializer(serializers.Serializer):
    """POST /touchpoints/: create the touchpoint with this slug or update the fields sent (a
    new one needs name, stage and channel). PATCH takes the same fields, slug included."""

    slug = serializers.SlugField(max_length=80)
    name = SingleLineCharField(max_length=120, required=False)
    description = NulFreeCharField(max_length=5000, required=False, allow_blank=True)
    stage = serializers.ChoiceField(choices=JourneyStage.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    ownership = serializers.ChoiceField(choices=Ownership.choices, required=False)
    owner_team = SingleLineCharField(max_length=120, required=False, allow_blank=True)
    owner = SingleLineCharField(
        max_length=150,
        required=False,
        allow_null=True,
        help_text="Username of the staff member its tickets go to first; null for none.",
    )
    active = StrictBooleanField(required=False)

    def validate_owner(self, username: str | None) -> Any:
        if username is None:
            return None
        staff = get_user_model().objects.filter(is_active=True, is_staff=True)
        owner = staff.filter(username=username).first()
        if owner is None:
            raise serializers.ValidationError("No active staff member with this username.")
        return owner


class TouchpointUpdateSerializer(TouchpointWriteSerializer):
    slug = serializers.SlugField(max_length=80, required=False)


class InteractionSerializer(serializers.ModelSerializer):
    customer_external_id = serializers.CharField(
        source="customer.external_id", read_only=True, allow_null=True
    )
    touchpoint = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "customer_external_id",
            "touchpoint",
            "occurred_at",
            "source",
            "external_id",
            "order_ref",
            "amount",
            "currency",
            "metadata",
            "created_at",
        ]
        read_only_fields = fields


class InteractionInputSerializer(serializers.Serializer):
    """One interaction. Name the customer by our id (``customer``) or by yours
    (``customer_external_id``), and the touchpoint by its slug."""

    source = SingleLineCharField(max_length=64)
    external_id = SingleLineCharField(max_length=191)
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    customer_external_id = SingleLineCharField(max_length=191, required=False)
    touchpoint = serializers.SlugField(max_length=80)
    occurred_at = SiteDateTimeField()
    order_ref = SingleLineCharField(max_length=120, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$", required=False, allow_blank=True, default="", max_length=3
    )
    metadata = serializers.DictField(required=False, default=dict)

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_METADATA_KEYS:
            raise serializers.ValidationError(f"At most {MAX_METADATA_KEYS} keys.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("customer" in attrs) == ("customer_external_id" in attrs):
            raise serializers.ValidationError(
                {"customer": "Give exactly one of customer or customer_external_id."}
            )
        return attrs


class InteractionResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    created = serializers.BooleanField()
    invitations = serializers.IntegerField()


class InteractionCreatedSerializer(InteractionSerializer):
    created = serializers.BooleanField(read_only=True)
    invitations = serializers.IntegerField(read_only=True)

    class Meta(InteractionSerializer.Meta):
        fields = [*InteractionSerializer.Meta.fields, "created", "invitations"]
        read_only_fields = fields


class InteractionBulkResultSerializer(serializers.Serializer):
    results = InteractionResultSerializer(many=True)
