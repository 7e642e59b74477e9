"""Changelists that refuse an impossible date instead of failing on it, and the parts of a
changelist over a big table (filters that read no table, a capped count).

Django's date hierarchy turns ``<field>__year/month/day`` into dates and catches only the
ValueError of building the first one: a year with 20 digits (OverflowError) or the year 9999
(its end, in the year 10000, is out of range) escaped as a 500. Here both become the admin's
own "incorrect lookup" answer (a redirect to ``?e=1``). Every ModelAdmin with a date hierarchy
uses the mixin; tests/unit/test_admin_fuzz.py finds any that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from cxcrm.pagination import CappedCountPaginator


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


# --- Changelists over big tables ----------------------------------------------------------------


class RecentFilter(admin.SimpleListFilter):
    """Rows of today, the last 7, 30 or 90 days, or this year, by one indexed date field.

    Stands in for ``date_hierarchy`` on big tables: the hierarchy asks the database for every
    distinct year, month or day in the list (``SELECT DISTINCT`` over the filtered rows, i.e.
    a scan of the table on the first level), whereas these links are fixed and each one is a
    range on the field's index. Made per field by ``recent_filter``."""

    field_name: str = ""
    TODAY, WEEK, MONTH, QUARTER, YEAR = "today", "7d", "30d", "90d", "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (self.TODAY, _("Today")),
            (self.WEEK, _("Past 7 days")),
            (self.MONTH, _("Past 30 days")),
            (self.QUARTER, _("Past 90 days")),
            (self.YEAR, _("This year")),
        ]

    def since(self) -> datetime | None:
        now = timezone.localtime()
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        match self.value():
            case self.TODAY:
                return today
            case self.WEEK:
                return today - timedelta(days=7)
            case self.MONTH:
                return today - timedelta(days=30)
            case self.QUARTER:
                return today - timedelta(days=90)
            case self.YEAR:
                return today.replace(month=1, day=1)
        return None

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        since = self.since()
        if since is None:
            return queryset
        return queryset.filter(**{f"{self.field_name}__gte": since})


def recent_filter(field_name: str, title: str) -> type[RecentFilter]:
    """A RecentFilter over ``field_name`` (which must be indexed), shown as ``title``."""
    return type(
        f"Recent{field_name.title().replace('_', '')}Filter",
        (RecentFilter,),
        {"field_name": field_name, "title": title, "parameter_name": f"{field_name}__recent"},
    )


class FixedChoicesFilter(admin.SimpleListFilter):
    """An exact filter on ``field_name`` whose choices are given, not read from the table:
    Django's filter for a field without ``choices`` lists ``SELECT DISTINCT field`` of the
    whole table on every page. Made per field by ``fixed_choices_filter``."""

    field_name: str = ""
    options: Callable[[], list[tuple[str, str]]]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in type(self).options()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(**{self.field_name: value})


def fixed_choices_filter(
    field_name: str, title: str, options: Callable[[], list[tuple[str, str]]]
) -> type[FixedChoicesFilter]:
    """``options`` is called per page (settings.LANGUAGES may be overridden in tests)."""
    return type(
        f"{field_name.title().replace('_', '')}ChoicesFilter",
        (FixedChoicesFilter,),
        {
            "field_name": field_name,
            "title": title,
            "parameter_name": field_name,
            "options": staticmethod(options),
        },
    )


class BigTableAdminMixin:
    """For a changelist over a table that grows without bound (answers, invitations,
    interactions, customers, emails, events, deliveries, the audit trail): its count stops at
    CappedCountPaginator's cap and is not repeated for the whole table, and no facet counts
    are offered (one COUNT per filter choice). Its filters, ordering and searches must be
    index-backed as well; tests/unit/test_admin_lists.py checks every such admin."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
