"""CSV export of any admin changelist: the columns of its ``list_display``, the rows its filters
and search select.

Two ways in, one writer:
- the site-wide action "Export selected rows as CSV" (with "Select all N" Django hands the
  action the whole filtered queryset, so it works on every changelist);
- ``CsvExportMixin`` adds ``<changelist>/export/`` for an "Export CSV" link that exports the
  current filtered changelist without selecting anything first.

Rows are streamed (``StreamingHttpResponse``) from ``.iterator(chunk_size=2000)`` with the
admin's ``list_select_related``, so memory and queries stay bounded whatever the row count.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

CHUNK_SIZE = 2000
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection, OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A quote in front makes Excel/LibreOffice show the text instead of evaluating it."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cell(value: Any, field: models.Field | None) -> str:
    if field is not None and getattr(field, "flatchoices", None) and not isinstance(value, bool):
        value = dict(field.flatchoices).get(value, value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    # Typed numbers from the database cannot be formulas; "-5.00" stays a number.
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return neutralise(json.dumps(value, ensure_ascii=False))
    text = str(value)
    # Display methods may return HTML (format_html); the file wants the text.
    if isinstance(value, SafeData):
        text = strip_tags(text)
    return neutralise(text)


def _columns(model_admin: admin.ModelAdmin, request: HttpRequest) -> list[str]:
    return [n for n in model_admin.get_list_display(request) if n != "action_checkbox"]


def _with_related(
    model_admin: admin.ModelAdmin, queryset: QuerySet, columns: list[str]
) -> QuerySet:
    """What ChangeList.apply_select_related does, for a queryset that did not come from one."""
    related = model_admin.list_select_related
    if related is True:
        return queryset.select_related()
    if related:
        return queryset.select_related(*related)
    names = []
    for name in columns:
        try:
            field = model_admin.model._meta.get_field(name)
        except FieldDoesNotExist:  # a method or callable column, not a field
            continue
        if isinstance(field, models.ForeignKey):
            names.append(name)
    return queryset.select_related(*names) if names else queryset


def _rows(
    model_admin: admin.ModelAdmin, queryset: QuerySet, columns: list[str]
) -> Iterator[list[str]]:
    for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
        row = []
        # A machine format: choice labels and display columns in the source language and
        # notation, whatever the staff member's. Per row, not around the yield: the generator
        # runs while the response streams, and must not leave its language on the thread.
        with override(None):
            for name in columns:
                try:
                    field, _attr, value = lookup_field(name, obj, model_admin)
                except ObjectDoesNotExist:
                    field, value = None, None
                row.append(_cell(value, field))
        yield row


class _Echo:
    """csv.writer wants a file; each written line is handed straight to the response."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> StreamingHttpResponse:
    model = model_admin.model
    columns = _columns(model_admin, request)
    # Capitalised as the changelist shows them, but never translated: a file's columns stay
    # the same for every staff member (scripts and spreadsheets read them by name).
    with override(None):
        headers = [capfirst(str(label_for_field(n, model, model_admin))) for n in columns]
        name = slugify(model._meta.verbose_name_plural) or "export"
    # An admin may record the export (customers: the privacy audit trail).
    on_export = getattr(model_admin, "csv_exported", None)
    if on_export is not None:
        on_export(request, queryset)
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        # A BOM so Excel opens the UTF-8 file with its accents intact.
        yield "\ufeff" + writer.writerow([neutralise(h) for h in headers])
        for row in _rows(model_admin, queryset, columns):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


@admin.action(description=_("Export selected rows as CSV"), permissions=["view"])
def export_csv(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> StreamingHttpResponse:
    columns = _columns(model_admin, request)
    return csv_response(model_admin, request, _with_related(model_admin, queryset, columns))


class CsvExportMixin:
    """Adds ``export/`` to a ModelAdmin: the current changelist (filters, search, date drill-down,
    ordering from the query string) as CSV, for the "Export CSV" link in object-tools."""

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta  # type: ignore[attr-defined]
        ours = [
            path(
                "export/",
                # admin_view: staff sign-in, never cached.
                self.admin_site.admin_view(self.csv_export_view),  # type: ignore[attr-defined]
                name=f"{opts.app_label}_{opts.model_name}_export",
            )
        ]
        return ours + super().get_urls()  # type: ignore[misc]

    def csv_export_view(self, request: HttpRequest) -> HttpResponse:
        model_admin: admin.ModelAdmin = self  # type: ignore[assignment]
        if not model_admin.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            # The changelist itself applies the filters, search and ordering of the query string.
            changelist = model_admin.get_changelist_instance(request)
        except IncorrectLookupParameters:
            opts = model_admin.model._meta
            messages.error(
                request, gettext("The filters in the address are not valid; nothing exported.")
            )
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            )
        return csv_response(model_admin, request, changelist.queryset)


def register() -> None:
    admin.site.add_action(export_csv, "export_csv")
