"""What customers talk about, on the staff pages: the dashboard's topics and key drivers, the
journey map's top complaints, and the emerging themes page (/admin/emerging-themes/), where a
Manager turns a theme into a topic. The figures are feedback.insights.analysis's; this module
hands it the dashboard's filters and formats what comes back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from feedback.insights import analysis
from feedback.insights.analysis import Driver, TopicFigures
from feedback.reporting.charts import Point, sparkline
from feedback.reporting.metrics import MetricFilters, Summary
from feedback.reporting.numbers import answers_n, day_month, percent, signed
from feedback.surveys.scoring import SurveyKind

VIEW_PERMISSION = "feedback.view_dashboard"
CREATE_PERMISSION = "feedback.add_topic"
# The dashboard lists the most mentioned topics and the strongest drivers; the API has all.
TOP_TOPICS = 8
TOP_DRIVERS = 5


def _nps(c: Summary) -> str:
    if not c.enough or c.net is None:
        return ""
    return signed(c.net) if round(c.net) else "0"


def _topic_row(f: TopicFigures) -> dict[str, Any]:
    peak = max((n for _, n in f.trend), default=0)
    points = [
        Point(
            day_month(week),
            float(n),
            title=ngettext("week of %(date)s: %(n)s comment", "week of %(date)s: %(n)s comments", n)
            % {"date": day_month(week), "n": n},
        )
        for week, n in f.trend
    ]
    nps = f.scores[SurveyKind.NPS]
    return {
        "name": f.name,
        "slug": f.slug,
        "volume": f.volume,
        "share": "–" if f.share is None else percent(f.share),
        "negative": percent(100 * f.negative / f.volume) if f.volume else "–",
        "nps": _nps(nps),
        "nps_n": nps.n,
        "nps_label": answers_n(nps.n),
        "spark": sparkline(
            points,
            y_min=0,
            y_max=max(peak, 1),
            label=gettext("%(topic)s: comments per week") % {"topic": f.name},
        ),
    }


def _driver_row(d: Driver, widest: float) -> dict[str, Any]:
    assert d.effect is not None and d.impact is not None
    return {
        "driver": d,
        "name": d.name,
        "effect": signed(d.effect),
        # Translators: a confidence interval, e.g. "+3 to +17".
        "interval": gettext("%(low)s to %(high)s")
        % {"low": signed(d.effect_low), "high": signed(d.effect_high)},
        "impact": signed(d.impact, 1),
        "n_label": answers_n(d.n),
        "width": f"{min(100.0, 100 * abs(d.impact) / widest):.1f}" if widest else "0",
        "down": d.impact < 0,
    }


def _drivers(found: list[Driver]) -> tuple[list[dict[str, Any]], int]:
    shown = [d for d in found if d.enough][:TOP_DRIVERS]
    widest = max((abs(d.impact or 0.0) for d in shown), default=0.0)
    return [_driver_row(d, widest) for d in shown], sum(1 for d in found if not d.enough)


def dashboard_section(
    f: MetricFilters,
    by_touchpoint: Mapping[Any, Mapping[str, Summary]],
    touchpoint_names: Mapping[int, tuple[str, str]],
) -> dict[str, Any]:
    """The "What customers talk about" section. Five queries: the comments and the answers'
    totals, the topics' mentions, their scores, their trend (`by_touchpoint`, the dashboard's
    breakdown, gives the touchpoints' drivers without one more)."""
    totals = analysis.totals(f)
    figures = analysis.topic_metrics(f, limit=TOP_TOPICS, comments=totals.comments)
    topic_drivers, topics_hidden = _drivers(analysis.topic_drivers(figures, totals))
    nps = {
        tp: kinds[SurveyKind.NPS] for tp, kinds in by_touchpoint.items() if SurveyKind.NPS in kinds
    }
    tp_drivers, tps_hidden = _drivers(analysis.touchpoint_drivers(nps, touchpoint_names))
    return {
        "comments": totals.comments,
        "topic_rows": [_topic_row(t) for t in figures],
        "topic_drivers": topic_drivers,
        "touchpoint_drivers": tp_drivers,
        "drivers_hidden": topics_hidden + tps_hidden,
        "driver_minimum": analysis.MIN_DRIVER_SAMPLE,
    }


# --- Emerging themes ----------------------------------------------------------------------------


class ThemeForm(forms.Form):
    name = forms.CharField(max_length=80, label=_("Topic name"))
    description = forms.CharField(max_length=500, required=False, label=_("Description"))

    def quotes(self) -> list[int]:
        # The quotes' comment ids; topic_from_theme reads their text again by id.
        values = self.data.getlist("quote") if hasattr(self.data, "getlist") else []
        return [int(v) for v in values if v.isdigit() and len(v) < 19][:10]


def _topic_url(topic: Any) -> str:
    try:
        return reverse("admin:feedback_topic_change", args=[topic.pk])
    except NoReverseMatch:  # the taxonomy's admin is not registered (yet)
        return ""


def _field_label(form: forms.Form, name: str) -> str:
    field = form.fields.get(name)
    return str(field.label) if field is not None and field.label else name


def emerging_themes_view(request: HttpRequest) -> HttpResponse:
    """Recent comments no topic covers, clustered; POST: one becomes a topic (its examples
    are the theme's quotes). Reading needs the dashboard's permission, creating a topic the
    taxonomy's (Managers)."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied("You need the “view dashboard” permission (Manager role).")
    may_create = request.user.has_perm(CREATE_PERMISSION)
    errors: list[str] = []
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("Your role may not add topics.")
        form = ThemeForm(request.POST)
        if form.is_valid():
            try:
                topic = analysis.topic_from_theme(
                    form.cleaned_data["name"],
                    form.quotes(),
                    form.cleaned_data["description"],
                )
            except ValidationError as e:
                errors = [m for ms in e.message_dict.values() for m in ms]
            else:
                messages.success(
                    request,
                    gettext("Topic “%(name)s” created; the next enrichment assigns it.")
                    % {"name": topic.name},
                )
                return HttpResponseRedirect(_topic_url(topic) or reverse("emerging-themes"))
        else:
            errors = [
                gettext("%(field)s: %(error)s") % {"field": _field_label(form, k), "error": m}
                for k, ms in form.errors.items()
                for m in ms
            ]
    themes = analysis.emerging_themes_cached()
    context = {
        **admin.site.each_context(request),
        "title": gettext("Emerging themes"),
        "themes": themes,
        "may_create": may_create,
        "errors": errors,
        "days": analysis.THEME_DAYS,
        "min_size": analysis.MIN_THEME_SIZE,
    }
    return TemplateResponse(
        request, "admin/emerging_themes.html", context, status=400 if errors else 200
    )


emerging_themes = admin.site.admin_view(emerging_themes_view)
