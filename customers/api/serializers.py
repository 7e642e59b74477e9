from __future__ import annotations

from typing import Any

from rest_framework import serializers

from customers.models import (
    Customer,
    SuppressionReason,
    country_validator,
    language_validator,
)
from cxcrm.api.views import SingleLineCharField

MAX_TAGS = 50
MAX_ATTRIBUTES_KEYS = 100


class CustomerSerializer(serializers.ModelSerializer):
    # Blank when not suppressed: declared so the schema allows "" beside the reasons.
    email = serializers.CharField(read_only=True)  # may be blank: not format "email"
    suppression_reason = serializers.ChoiceField(
        choices=SuppressionReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "email",
            "name",
            "phone",
            "language",
            "country",
            "segment",
            "tags",
            "attributes",
            "unsubscribed_at",
            "suppressed_at",
            "suppression_reason",
            "erased_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerUpsertSerializer(serializers.Serializer):
    """POST /customers/: create the customer with this external_id or update the fields sent."""

    external_id = SingleLineCharField(max_length=191)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    name = SingleLineCharField(max_length=200, required=False, allow_blank=True)
    phone = SingleLineCharField(max_length=32, required=False, allow_blank=True)
    # The model's validators (ASCII patterns: no control character can pass them), so that
    # the schema shows their pattern.
    language = serializers.CharField(max_length=16, required=False, validators=[language_validator])
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, validators=[country_validator]
    )
    segment = SingleLineCharField(max_length=64, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=SingleLineCharField(max_length=64), max_length=MAX_TAGS, required=False
    )
    attributes = serializers.DictField(required=False)

    def validate_attributes(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_ATTRIBUTES_KEYS:
            raise serializers.ValidationError(f"At most {MAX_ATTRIBUTES_KEYS} attributes.")
        return value
