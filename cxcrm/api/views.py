"""The base of every API viewset: scoped querysets, numeric ids, NUL-free query strings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters as filters
from django import forms
from django.conf import settings
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ParseError
from rest_framework.request import Request

from cxcrm.api.permissions import principal
from cxcrm.text import ControlCharacterValidator, multi_line, single_line

# A DELETE refused because rows that are kept still refer to the object (cxcrm.catalogue);
# the schema hook gives it the error's shape.
IN_USE = OpenApiResponse(description="In use (answers, tickets… refer to it): deactivate it.")


class ApiViewSet(viewsets.GenericViewSet):
    # Ids are numbers: anything else is a 404 from the URL resolver, never a query.
    lookup_value_regex = r"[0-9]{1,18}"
    # Action (or "action METHOD") → the Django permission a staff session needs for it
    # (cxcrm.api.permissions.ApiAccess); keys are held to their scopes instead.
    required_permissions: dict[str, str] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        for key, values in request.query_params.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                raise ParseError("NUL characters are not allowed in the query string.")
        super().initial(request, *args, **kwargs)

    @property
    def principal(self) -> Any:
        return principal(self.request)

    def validated(self, serializer_class: type[serializers.Serializer], **kwargs: Any) -> Any:
        """Validate the request body with an input serializer; its errors become a 400."""
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _described(filter_: filters.Filter, schema: dict[str, Any]) -> None:
    # A schema given by extend_schema_field replaces the filter's help_text in the parameter's
    # description: an instance's own annotation carries both.
    if filter_.extra.get("help_text"):
        extend_schema_field({**schema, "description": str(filter_.extra["help_text"])})(filter_)


ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}
SMALLINT_SCHEMA = {"type": "integer", "minimum": -32768, "maximum": 32767}


# The bounds in the schema too (drf-spectacular reads the annotation of a filter class).
@extend_schema_field(ID_SCHEMA)
class IdFilter(filters.NumberFilter):
    """An id in a query string: a whole number a bigint column can hold, else a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)
        _described(self, ID_SCHEMA)


@extend_schema_field(SMALLINT_SCHEMA)
class SmallIntFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -32768)
        kwargs.setdefault("max_value", 32767)
        super().__init__(*args, **kwargs)
        _described(self, SMALLINT_SCHEMA)


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59: the value is compared in
    UTC (and one that leaves the calendar when moved there is refused)."""

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a date-time within years 1-9999.") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class NulFreeCharField(serializers.CharField):
    """Text without NUL characters (PostgreSQL cannot store them). The JSON parser already
    refuses them; this keeps the rule where the field is declared, for the schema's sake too.
    Other control characters than tab and line breaks are refused as well (cxcrm.text)."""

    text_validator: ControlCharacterValidator = multi_line

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(self.text_validator)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if "\x00" in value:
            raise serializers.ValidationError("NUL characters are not allowed.")
        return value


class SingleLineCharField(NulFreeCharField):
    """A name, id or subject: one line without control characters (cxcrm.text), so it can
    never break or add an email header; the 400 names the field."""

    text_validator = single_line


class SiteDateTimeField(serializers.DateTimeField):
    """A date-time in the site's time zone (``TIME_ZONE``). The API activates no per-request
    time zone, so this is the current one; asking Django's cached default instead of the
    request-local current zone for every value keeps long lists cheap."""

    def default_timezone(self) -> Any:
        return timezone.get_default_timezone() if settings.USE_TZ else None


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's BooleanField also takes 0, 1, "yes" and "on", which the
    schema (type boolean) does not promise, so a client cannot rely on them."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        raise AssertionError("unreachable")  # fail() always raises
