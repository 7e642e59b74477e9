from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from cxcrm.api.fast import FastRepresentation
from cxcrm.api.views import NulFreeCharField
from touchpoints.models import Interaction, Touchpoint

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


class InteractionSerializer(FastRepresentation, serializers.ModelSerializer):
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

    source = NulFreeCharField(max_length=64)
    external_id = NulFreeCharField(max_length=191)
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    customer_external_id = NulFreeCharField(max_length=191, required=False)
    touchpoint = serializers.SlugField(max_length=80)
    occurred_at = serializers.DateTimeField()
    order_ref = NulFreeCharField(max_length=120, required=False, allow_blank=True, default="")
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


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENTS = Decimal("0.01")
_FIELDS = frozenset(InteractionInputSerializer().fields)


def _text(item: dict[str, Any], name: str, max_length: int, required: bool) -> str | None:
    value = item.get(name, None if required else "")
    if not isinstance(value, str):
        return None
    value = value.strip()
    if (required and not value) or len(value) > max_length or "\x00" in value:
        return None
    return value


def fast_interaction(item: Any) -> dict[str, Any] | None:
    """The validated data InteractionInputSerializer would give for a plainly well-formed item,
    or None for anything else (then the serializer decides, and words the errors).

    A bulk of 1,000 items spends most of its time in DRF's per-field machinery; integrators
    send the plain form (strings, an ISO datetime with an offset, an amount as a string), so
    that form is checked here by the same rules, and every other form goes the slow way.
    tests/unit/test_api_interactions.py holds the two to the same answers.
    """
    if not isinstance(item, dict):
        return None
    out: dict[str, Any] = {}
    for name, length in (("source", 64), ("external_id", 191)):
        value = _text(item, name, length, required=True)
        if value is None:
            return None
        out[name] = value
    if "customer" in item:
        if "customer_external_id" in item:
            return None
        customer = item["customer"]
        if type(customer) is not int or not 1 <= customer <= 2**63 - 1:
            return None
        out["customer"] = customer
    else:
        value = _text(item, "customer_external_id", 191, required=True)
        if value is None:
            return None
        out["customer_external_id"] = value
    touchpoint = _text(item, "touchpoint", 80, required=True)
    if touchpoint is None or not _SLUG.match(touchpoint):
        return None
    out["touchpoint"] = touchpoint
    occurred_at = item.get("occurred_at")
    if not isinstance(occurred_at, str):
        return None
    try:
        parsed = parse_datetime(occurred_at)
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    out["occurred_at"] = parsed.astimezone(UTC)
    order_ref = _text(item, "order_ref", 120, required=False)
    if order_ref is None:
        return None
    out["order_ref"] = order_ref
    amount = item.get("amount")
    if amount is None:
        out["amount"] = None
    elif isinstance(amount, str) and _AMOUNT.match(amount):
        out["amount"] = Decimal(amount).quantize(_CENTS)
    else:
        return None
    currency = _text(item, "currency", 3, required=False)
    if currency is None or (currency and not _CURRENCY.match(currency)):
        return None
    out["currency"] = currency
    metadata = item.get("metadata", {})
    if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_KEYS:
        return None
    out["metadata"] = dict(metadata)
    return out


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
