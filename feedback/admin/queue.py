"""The triage queue's table and filter bar, rendered in one Python pass.

Django's changelist draws each cell through ``items_for_result`` (``lookup_field``, the empty
value, ``format_html``), each row's checkbox through the form renderer's templates
(``input.html`` and ``attrs.html``: two template renders a row), and then the rows and the
filters through template loops. On the 50-row queue with 9 columns and 8 filters that was
about half of the page's time (bench.admin, bench/README.md). ``TicketQueueChangeList`` does
the same work with one f-string a row:

- columns are resolved once per page (model field, ModelAdmin method, or the checkbox), not
  once per cell; each value goes through Django's own ``display_for_field`` /
  ``display_for_value``, so a date, an empty value or a related object reads exactly as in
  Django's table;
- the change link is reversed once and the row's primary key put in it; the preserved
  filters are added once;
- the markup is that of ``admin/change_list_results.html`` and ``admin/filter.html`` (the
  admin's JavaScript and CSS rely on the classes and names), and
  ``tests/unit/test_ticket_queue_render.py`` compares both with what Django's templates
  (including any override of them in templates/admin/) draw for the same page.

Anything this does not cover falls back to Django's rendering: a popup (raw-id lookup), an
editable list, a column that is neither a model field nor a ModelAdmin method, a filter with
its own template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time
from html import escape
from typing import Any

from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import (
    _coerce_field_name,
    admin_list_filter,
    result_headers,
    result_list,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import capfirst
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import iri_to_uri
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext

from feedback.selectors import ticket_queue_rows
from feedback.services.loop import staff_users
from touchpoints.models import Touchpoint

# Stands for the primary key in the change URL reversed once per page (no digits, nothing a
# URL would quote).
_PK_MARK = "cxpkmark"
_DATE_TYPES = (models.DateField, models.TimeField, models.ForeignKey)
DJANGO_FILTER_TEMPLATE = "admin/filter.html"


# The assignee and touchpoint filters list every staff account and touchpoint: two queries on
# each load of a page that staff reload all day, for lists that change a few times a year.
# They are cached for a minute (no invalidation: a new, renamed or deactivated account or
# touchpoint shows in the filter bar within FILTER_CHOICES_SECONDS). Filtering itself never
# reads the lists: ?assignee=<id> and ?touchpoint__id__exact=<id> work at once.
FILTER_CHOICES_KEY = "feedback:queue-filter-choices:1"
FILTER_CHOICES_SECONDS = 60


def queue_filter_choices() -> dict[str, list[tuple[int, str]]]:
    """{"staff": [(pk, username)], "touchpoints": [(pk, name)]}, cached (see above)."""
    choices = cache.get(FILTER_CHOICES_KEY)
    if choices is None:
        choices = {
            "staff": list(staff_users().order_by("username").values_list("pk", "username")),
            # Touchpoint's own order (stage, name) and str() (its name), as Django's
            # RelatedFieldListFilter lists them, without building the objects.
            "touchpoints": list(Touchpoint.objects.values_list("pk", "name")),
        }
        cache.set(FILTER_CHOICES_KEY, choices, FILTER_CHOICES_SECONDS)
    return choices


class TouchpointFilter(admin.RelatedFieldListFilter):
    """Django's filter on the ticket's touchpoint (same parameter, same choices), its list
    from queue_filter_choices."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        return queue_filter_choices()["touchpoints"]


def _esc(value: object) -> str:
    """``conditional_escape`` without the lazy-string wrapper (Django's ``escape`` is
    ``html.escape`` of ``str(value)``)."""
    return str(value) if isinstance(value, SafeData) else escape(str(value))


@dataclass(frozen=True)
class _Column:
    """How one list_display entry is drawn, decided once per page."""

    name: str
    css: str  # "field-x", with "nowrap" for date fields and foreign keys
    link: bool
    # The escaped cell content, and whether this value asks for "nowrap" (a method that
    # returns a date does).
    value: Callable[[Model], tuple[str, bool]]


class TicketQueueChangeList(ChangeList):
    """Django's ChangeList with the queue's own (narrower) joins and a one-pass renderer for
    the result table and the filter bar (``templates/admin/feedback/ticket/queue.html``
    prints ``cl.results_html`` and ``cl.filters_html``)."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return ticket_queue_rows(super().get_queryset(request, exclude_parameters))

    # --- The result table ---

    @property
    def fast_rows(self) -> bool:
        """False where Django's own table is needed (see the module's docstring)."""
        return not (self.is_popup or getattr(self, "formset", None) or self.to_field)

    def results_html(self) -> SafeString:
        columns = self._columns() if self.fast_rows else None
        if columns is None:
            # Django's table, as the {% result_list cl %} tag would draw it.
            template = get_template("admin/change_list_results.html")
            return mark_safe(template.render(result_list(self)))
        change_url = self._change_url_parts()
        empty = self.model_admin.get_empty_value_display()
        rows = [self._row(obj, columns, change_url, empty) for obj in self.result_list]
        if not rows:
            return mark_safe("")
        return mark_safe(
            '<div class="results">\n<table id="result_list">\n<thead>\n<tr>\n'
            + "".join(self._headers())
            + "\n</tr>\n</thead>\n<tbody>\n"
            + "\n".join(rows)
            + "\n</tbody>\n</table>\n</div>\n"
        )

    def _headers(self) -> Iterator[str]:
        headers = list(result_headers(self))
        sorted_fields = sum(1 for h in headers if h["sortable"] and h["sort_priority"] > 0)
        for header in headers:
            text = _esc(capfirst(header["text"]))
            sort = ""
            if header["sortable"] and header["sort_priority"] > 0:
                priority = header["sort_priority"]
                rank = ""
                if sorted_fields > 1:
                    title = gettext("Sorting priority: %(priority_number)s") % {
                        "priority_number": priority
                    }
                    rank = f'<span class="sortpriority" title="{_esc(title)}">{priority}</span>'
                direction = "ascending" if header["ascending"] else "descending"
                sort = (
                    '<div class="sortoptions">'
                    f'<a class="sortremove" href="{_esc(header["url_remove"])}" '
                    f'title="{_esc(gettext("Remove from sorting"))}"></a>{rank}'
                    f'<a href="{_esc(header["url_toggle"])}" class="toggle {direction}" '
                    f'title="{_esc(gettext("Toggle sorting"))}"></a></div>'
                )
            label = (
                f'<a href="{_esc(header["url_primary"])}">{text}</a>'
                if header["sortable"]
                else f"<span>{text}</span>"
            )
            yield (
                f'<th scope="col"{_esc(header["class_attrib"])}>{sort}'
                f'<div class="text">{label}</div><div class="clear"></div></th>'
            )

    def _row(
        self, obj: Model, columns: list[_Column], change_url: tuple[str, str] | None, empty: str
    ) -> str:
        cells = []
        linked = False
        for column in columns:
            try:
                content, nowrap = column.value(obj)
            except ObjectDoesNotExist:  # as items_for_result: a dangling relation
                content, nowrap = empty, False
            css = f' class="{column.css} nowrap"' if nowrap else f' class="{column.css}"'
            if column.link:
                tag = "td" if linked else "th"
                linked = True
                if change_url is not None:
                    content = f'<a href="{_esc(self._change_url(obj, change_url))}">{content}</a>'
                cells.append(f"<{tag}{css}>{content}</{tag}>")
            else:
                cells.append(f"<td{css}>{content}</td>")
        return "<tr>" + "".join(cells) + "</tr>"

    def _change_url(self, obj: Model, parts: tuple[str, str]) -> str:
        if isinstance(obj.pk, int):
            return f"{parts[0]}{obj.pk}{parts[1]}"
        # Other keys as items_for_result builds them (quoted, reversed, filters added).
        context = {"preserved_filters": self.preserved_filters, "opts": self.opts}
        return add_preserved_filters(context, self.url_for_result(obj))

    def _columns(self) -> list[_Column] | None:
        """One _Column per list_display entry, or None if one of them needs Django's
        per-cell lookup."""
        links = self.list_display_links
        if links is not None and not links:
            return None  # Django links whatever column comes first; never the case here
        empty = self.model_admin.get_empty_value_display()
        columns = []
        for index, name in enumerate(self.list_display):
            link = links is not None and name in links
            column = self._checkbox_column(name) or self._column(name, index, empty, link)
            if column is None:
                return None
            columns.append(column)
        return columns

    def _change_url_parts(self) -> tuple[str, str] | None:
        try:
            url = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=(_PK_MARK,),
                current_app=self.model_admin.admin_site.name,
            )
        except NoReverseMatch:
            return None
        context = {"preserved_filters": self.preserved_filters, "opts": self.opts}
        before, _, after = add_preserved_filters(context, url).partition(_PK_MARK)
        return before, after

    def _checkbox_column(self, name: str) -> _Column | None:
        if name != "action_checkbox" or (
            type(self.model_admin).action_checkbox is not admin.ModelAdmin.action_checkbox
        ):
            return None
        label = gettext("Select this object for an action - {}")

        def checkbox(obj: Model) -> tuple[str, bool]:
            return (
                '<input type="checkbox" name="_selected_action" '
                f'value="{_esc(obj.pk)}" class="action-select" '
                # The sentence is the translator's (not escaped, as format_html does).
                f'aria-label="{label.format(_esc(obj))}">'
            ), False

        return _Column(name, "action-checkbox", False, checkbox)

    def _column(self, name: str, index: int, empty: str, link: bool) -> _Column | None:
        css = f"field-{_coerce_field_name(name, index)}"
        try:
            field = self.lookup_opts.get_field(name)
        except FieldDoesNotExist:
            method = getattr(self.model_admin, name, None) if isinstance(name, str) else None
            if not callable(method) or name in ("__str__", "__repr__"):
                return None
            return _Column(name, css, link, _method_cell(method, empty))
        if field.auto_created:
            return None
        if isinstance(field, _DATE_TYPES):
            css += " nowrap"
        if isinstance(field.remote_field, models.ManyToOneRel):
            return _Column(name, css, link, _related_cell(field.name, empty))
        if field.is_relation:
            return None
        return _Column(name, css, link, _field_cell(field, empty, link))

    # --- The filter bar ---

    def filters_html(self) -> SafeString:
        return mark_safe("\n".join(self._filter(spec) for spec in self.filter_specs))

    def _filter(self, spec: Any) -> str:
        if spec.template != DJANGO_FILTER_TEMPLATE:
            return str(admin_list_filter(self, spec))
        title = _esc(spec.title)
        items = []
        for choice in spec.choices(self):
            selected = ' class="selected"' if choice["selected"] else ""
            href = _esc(iri_to_uri(choice["query_string"]))
            items.append(f'<li{selected}><a href="{href}">{_esc(choice["display"])}</a></li>')
        heading = gettext(" By %(filter_title)s ") % {"filter_title": title}
        return (
            f'<details data-filter-title="{title}" open>\n'
            f"<summary>{heading}</summary>\n<ul>{''.join(items)}</ul>\n</details>"
        )


Cell = Callable[[Model], tuple[str, bool]]


def _method_cell(method: Callable[[Model], Any], empty: str) -> Cell:
    """A ModelAdmin method column, as items_for_result draws one (f is None)."""
    empty = getattr(method, "empty_value_display", empty)
    boolean = getattr(method, "boolean", False)

    def cell(obj: Model) -> tuple[str, bool]:
        value = method(obj)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        return _esc(display_for_value(value, empty, boolean)), isinstance(value, date | time)

    return cell


def _related_cell(name: str, empty: str) -> Cell:
    """A foreign key: the related object's str(), as items_for_result draws it."""

    def cell(obj: Model) -> tuple[str, bool]:
        related = getattr(obj, name)
        return (empty if related is None else _esc(related)), False

    return cell


def _field_cell(field: models.Field, empty: str, link: bool) -> Cell:
    attname = field.attname

    def cell(obj: Model) -> tuple[str, bool]:
        value = getattr(obj, attname)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        return _esc(display_for_field(value, field, empty, avoid_link=link)), False

    return cell
