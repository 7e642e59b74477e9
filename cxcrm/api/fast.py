"""The output of a ModelSerializer, computed from a plan made once per serializer class.

DRF walks every field of every row through ``get_attribute`` and ``to_representation`` (with a
time-zone lookup per date-time): a page of 100 tickets spent 13 ms there, half of the list's
time (python -m bench.api, ticket_list). ``FastRepresentation`` looks at the serializer's fields
once and, for the kinds whose output it can give exactly, reads the attribute straight from the
instance:

- a plain model column (CharField, TextField, IntegerField, BooleanField, ChoiceField over one):
  the value as stored (DRF's ``str()``/``int()``/choice look-up give the same value back);
- a primary-key related field: the foreign key's id (what DRF's pk-only optimisation reads);
- a DateTimeField in ISO 8601: the value in the current time zone, ``+00:00`` written ``Z``;
- a read-only field with a dotted ``source`` through a nullable relation and a default (e.g.
  ``assignee.username``): the value, or the default when a link of the chain is None.

Every other field goes through its own ``get_attribute``/``to_representation``, as in DRF.
tests/unit/test_api_fast.py holds each serializer that uses it to DRF's own output.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import fields as drf
from rest_framework import relations
from rest_framework.settings import api_settings

# DRF field type (exactly) -> the model columns whose stored value it outputs unchanged.
_STORED: dict[type, tuple[type, ...]] = {
    drf.CharField: (models.CharField, models.TextField),
    drf.IntegerField: (models.IntegerField,),
    drf.BooleanField: (models.BooleanField,),
    drf.ChoiceField: (models.CharField, models.IntegerField),
}

# (output name, read the value from the instance, make it output or None to output as is)
Step = tuple[str, Callable[[Any], Any], Callable[[Any], Any] | None]


def _iso(value: Any, zone: Any) -> str:
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _chain(path: list[str], default: Any) -> Callable[[Any], Any]:
    def read(instance: Any) -> Any:
        for name in path:
            instance = getattr(instance, name)
            if instance is None:
                return default
        return instance

    return read


def _step(field: drf.Field, model: type[models.Model]) -> Step | None:
    """The fast step for one field, or None if DRF's own path must run."""
    name = field.field_name
    if len(field.source_attrs) > 1:
        # A dotted source: only a read-only CharField defaulting to None (a link of the chain
        # that is None gives None, as DRF's AttributeError fallback to the default does).
        if type(field) is drf.CharField and field.read_only and field.default is None:
            return (name, _chain(field.source_attrs, None), str)
        return None
    try:
        column = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    if type(field) is relations.PrimaryKeyRelatedField:
        if field.pk_field is not None or not isinstance(column, models.ForeignKey):
            return None
        return (name, operator.attrgetter(column.attname), None)
    if type(field) is drf.DateTimeField and isinstance(column, models.DateTimeField):
        if getattr(field, "format", api_settings.DATETIME_FORMAT) != drf.ISO_8601:
            return None
        if hasattr(field, "timezone"):
            return None
        return (name, operator.attrgetter(column.attname), _iso)
    if isinstance(column, _STORED.get(type(field), ())):
        return (name, operator.attrgetter(column.attname), None)
    big = getattr(drf, "BigIntegerField", None)  # DRF 3.16: big integers, maybe as strings
    if big is not None and type(field) is big and isinstance(column, models.IntegerField):
        if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING):
            return None
        return (name, operator.attrgetter(column.attname), None)
    return None


class FastRepresentation:
    """Mix into a ModelSerializer (before it) whose rows are listed by the hundred."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        zone = timezone.get_current_timezone()
        fields = None
        out: dict[str, Any] = {}
        for name, read, make in self._fast_plan():
            if read is None:
                # DRF's own path, with this serializer's field (its context is this request's).
                if fields is None:
                    fields = self.fields  # type: ignore[attr-defined]
                field = fields[name]
                attribute = field.get_attribute(instance)
                check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
                out[name] = None if check is None else field.to_representation(attribute)
                continue
            value = read(instance)
            if make is None:
                out[name] = value
            elif make is _iso:
                out[name] = _iso(value, zone) if value else None
            else:
                out[name] = None if value is None else make(value)
        return out

    def _fast_plan(self) -> list[tuple[str, Any, Any]]:
        cls = type(self)
        plan = cls.__dict__.get("_fast_plan_cache")
        if plan is None:
            model = self.Meta.model  # type: ignore[attr-defined]
            plan = []
            for field in self._readable_fields:  # type: ignore[attr-defined]
                step = _step(field, model)
                plan.append(step if step is not None else (field.field_name, None, None))
            cls._fast_plan_cache = plan  # type: ignore[attr-defined]
        return plan
