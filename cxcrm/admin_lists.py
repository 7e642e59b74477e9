"""Changelists that refuse an impossible date instead of failing on it.

Django's date hierarchy turns ``<field>__year/month/day`` into dates and catches only the
ValueError of building the first one: a year with 20 digits (OverflowError) or the year 9999
(its end, in the year 10000, is out of range) escaped as a 500. Here both become the admin's
own "incorrect lookup" answer (a redirect to ``?e=1``). Every ModelAdmin with a date hierarchy
uses the mixin; tests/unit/test_admin_fuzz.py finds any that does not.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask


class SafeDateChangeList(ChangeList):
    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class SafeDateChangeListMixin:
    """For a ModelAdmin with ``date_hierarchy``: its changelist is a SafeDateChangeList."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return SafeDateChangeList


class SafePeriodicTaskAdmin(SafeDateChangeListMixin, PeriodicTaskAdmin):
    """django-celery-beat's periodic tasks have a date hierarchy too."""


def register() -> None:
    if admin.site.is_registered(PeriodicTask):
        admin.site.unregister(PeriodicTask)
    admin.site.register(PeriodicTask, SafePeriodicTaskAdmin)
