"""The staff dashboard (/admin/dashboard/) and the journey map (/admin/journey-map/).

Thin views: a form turns the query string into `MetricFilters`, feedback.reporting.metrics computes
every
number (the REST API reads the same functions), and this module only formats them and draws
the charts. Both pages live inside the admin (`admin.site.admin_view`: sign-in, staff only, the
admin's header and theme) and need the `feedback.view_dashboard` permission (Manager, Admin).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext, npgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from feedback.insights import analysis
from feedback.reporting import coverage, metrics, topics
from feedback.reporting import loop as loop_figures
from feedback.reporting.charts import Point, line_chart, sparkline
from feedback.reporting.loop import Duration
from feedback.reporting.metrics import (
    MIN_SAMPLE,
    Bucket,
    MetricFilters,
    Rate,
    Summary,
    TrendPoint,
)
from feedback.reporting.numbers import (
    answers_n,
    date_range,
    day_month,
    day_month_year,
    month_year,
    number,
    percent,
    signed,
)
from feedback.surveys.figures import query
from feedback.surveys.scoring import SurveyKind, score_range
from feedback.tickets.models import OPEN_TICKET_STATUSES
from touchpoints.models import JourneyStage, Touchpoint

PERMISSION = "feedback.view_dashboard"
# A daily chart of more than this many points is unreadable (and a long custom range could
# otherwise ask for thousands of buckets).
MAX_POINTS = 120
TICKET_CHANGELIST = "admin:feedback_ticket_changelist"


# --- Filters ------------------------------------------------------------------------------------


class PeriodForm(forms.Form):
    """The filter bar. Its fields render the choices; what the values mean and which are
    refused is feedback.surveys.figures.query's, the API's rule too."""

    period = forms.ChoiceField(choices=query.PERIODS, required=False, label=_("Period"))
    since = forms.DateField(
        required=False,
        label=pgettext_lazy("first day of a period", "From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        label=pgettext_lazy("last day of a period", "To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    segment = forms.CharField(
        required=False, max_length=64, widget=forms.Select, label=_("Segment")
    )
    # Set by a successful clean().
    resolved: query.Period
    metric_filters: MetricFilters

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.segments = query.segment_choices()
        self.fields["segment"].widget.choices = [("", _("All segments"))] + [
            (s, s) for s in self.segments
        ]

    def query_params(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"segment": data.get("segment") or "", "segments": self.segments}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.resolved, self.metric_filters = query.metrics_query(
                today=timezone.localdate(),
                period=data.get("period") or "",
                since=data.get("since"),
                until=data.get("until"),
                **self.query_params(data),
            )
        except ValidationError as e:
            # Keyed by parameter, and every parameter is a field of this form.
            self.add_error(None, e)
        return data

    def days(self) -> int:
        return self.resolved.days

    def filters(self) -> MetricFilters:
        return self.metric_filters

    def auto_bucket(self) -> Bucket:
        return self.resolved.auto_bucket()


class DashboardForm(PeriodForm):
    touchpoint = forms.SlugField(
        required=False, max_length=80, widget=forms.Select, label=_("Touchpoint")
    )
    stage = forms.ChoiceField(
        choices=[("", _("All stages")), *JourneyStage.choices],
        required=False,
        label=_("Journey stage"),
    )
    bucket = forms.ChoiceField(
        choices=[
            ("", pgettext_lazy("grouping of a chart", "Auto")),
            ("day", pgettext_lazy("grouping of a chart", "Day")),
            ("week", pgettext_lazy("grouping of a chart", "Week")),
            ("month", pgettext_lazy("grouping of a chart", "Month")),
        ],
        required=False,
        label=_("Group by"),
    )
    TOO_MANY = {
        "day": _("Too many days for one chart; group by week or month."),
        "week": _("Too many weeks for one chart; group by month."),
        "month": _("Too many months for one chart; choose a shorter period."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Loaded here, once: a callable would be read again each time the select is rendered.
        # Their ids too: the key drivers name the touchpoints of the breakdown by id.
        rows = Touchpoint.objects.order_by("stage", "name").values_list("id", "slug", "name")
        self.touchpoint_names = {pk: (slug, name) for pk, slug, name in rows}
        choices = [(slug, name) for _, slug, name in rows]
        self.fields["touchpoint"].widget.choices = [("", _("All touchpoints")), *choices]

    def query_params(self, data: dict[str, Any]) -> dict[str, Any]:
        touchpoint = data.get("touchpoint")
        return {
            **super().query_params(data),
            "touchpoints": [touchpoint] if touchpoint else [],
            "stage": data.get("stage") or "",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and data.get("bucket"):
            per = {"day": 1, "week": 7, "month": 30}[data["bucket"]]
            if self.days() / per > MAX_POINTS:
                self.add_error("bucket", self.TOO_MANY[data["bucket"]])
        return data

    def chosen_bucket(self) -> Bucket:
        return self.cleaned_data.get("bucket") or self.auto_bucket()


def _bound(form_class: type[PeriodForm], params: QueryDict) -> PeriodForm:
    data = params.copy()
    if not data.get("period"):
        # So that the select shows what is applied.
        custom = data.get("since") or data.get("until")
        data["period"] = "custom" if custom else query.DEFAULT_PERIOD
    return form_class(data)


# --- Formatting ---------------------------------------------------------------------------------


KIND_TITLES = {
    # Translators: the survey kinds' abbreviations; keep them if your staff use the English ones.
    SurveyKind.NPS: (pgettext_lazy("survey kind", "NPS"), _("Net Promoter Score")),
    SurveyKind.CSAT: (pgettext_lazy("survey kind", "CSAT"), _("Customer satisfaction")),
    SurveyKind.CES: (pgettext_lazy("survey kind", "CES"), _("Customer effort")),
}
SCALES: dict[str, tuple[float, float, list[float], float | None, str]] = {
    # y_min, y_max, ticks, reference line, suffix
    SurveyKind.NPS: (-100, 100, [-100, -50, 0, 50, 100], 0, ""),
    SurveyKind.CSAT: (0, 100, [0, 25, 50, 75, 100], None, "%"),
    SurveyKind.CES: (*score_range(SurveyKind.CES), list(range(1, 8)), None, ""),
}


def _share_labels(kind: str, good: int, neutral: int, bad: int) -> tuple[str, str, str]:
    """The three categories' counts as words ("12 promoters"): a plural per count."""
    if kind == SurveyKind.NPS:
        return (
            ngettext("%(n)s promoter", "%(n)s promoters", good) % {"n": good},
            ngettext("%(n)s passive", "%(n)s passives", neutral) % {"n": neutral},
            ngettext("%(n)s detractor", "%(n)s detractors", bad) % {"n": bad},
        )
    if kind == SurveyKind.CSAT:
        return (
            npgettext("CSAT answers", "%(n)s satisfied", "%(n)s satisfied", good) % {"n": good},
            npgettext("CSAT answers", "%(n)s neutral", "%(n)s neutral", neutral) % {"n": neutral},
            npgettext("CSAT answers", "%(n)s dissatisfied", "%(n)s dissatisfied", bad) % {"n": bad},
        )
    return (
        npgettext("CES answers", "%(n)s easy", "%(n)s easy", good) % {"n": good},
        npgettext("CES answers", "%(n)s neutral", "%(n)s neutral", neutral) % {"n": neutral},
        npgettext("CES answers", "%(n)s difficult", "%(n)s difficult", bad) % {"n": bad},
    )


def format_value(summary: Summary) -> str:
    value = summary.value
    if value is None:
        return "–"
    if summary.kind == SurveyKind.NPS:
        return signed(value) if round(value) else "0"
    if summary.kind == SurveyKind.CSAT:
        return percent(value)
    return number(value, 1)


def format_margin(summary: Summary) -> str:
    margin = summary.margin
    if margin is None:
        return ""
    return "±" + number(margin, 1 if summary.kind == SurveyKind.CES else 0)


def format_duration(duration: timedelta | None) -> str:
    if duration is None:
        return "–"
    minutes = duration.total_seconds() / 60
    if minutes < 90:
        # Translators: a duration in minutes, e.g. "45 min".
        return gettext("%(minutes)s min") % {"minutes": number(minutes)}
    hours = minutes / 60
    if hours < 48:
        # Translators: a duration in hours with one decimal, e.g. "3.5 h".
        return gettext("%(hours)s h") % {"hours": number(hours, 1)}
    # Translators: a duration in days with one decimal, e.g. "2.5 days": the number is never
    # a whole one, so use the form your language uses after a decimal number (or "d").
    return gettext("%(days)s days") % {"days": number(hours / 24, 1)}


def period_label(since: date, until: date) -> str:
    """ "7 Jan – 6 Dec 2026", with the first year too when the period spans two years
    ("7 Dec 2025 – 6 Dec 2026"): a range that names one year must be in that year."""
    return date_range(since, until)


def _percent(value: float | None) -> str:
    return "–" if value is None else percent(value)


def _bucket_label(start: date, bucket: Bucket) -> str:
    if bucket == "month":
        return month_year(start)
    return day_month(start)


def per_bucket(what: str, bucket: Bucket) -> str:
    """A chart's name: "NPS per week" (`what` is already translated)."""
    if bucket == "day":
        return gettext("%(what)s per day") % {"what": what}
    if bucket == "week":
        return gettext("%(what)s per week") % {"what": what}
    return gettext("%(what)s per month") % {"what": what}


def _point_title(label: str, bucket: Bucket, value: float | None, summary: Summary) -> str:
    """A chart point's tooltip: "week of 7 Jan: 42.0 (n=58)"."""
    when = gettext("week of %(date)s") % {"date": label} if bucket == "week" else label
    if value is None:
        return gettext("%(when)s: no answers") % {"when": when}
    figures = {"when": when, "value": number(value, 1), "n": summary.n, "min": MIN_SAMPLE}
    if summary.enough:
        return gettext("%(when)s: %(value)s (n=%(n)s)") % figures
    return gettext("%(when)s: %(value)s (n=%(n)s, too few answers: fewer than %(min)s)") % figures


def _points(
    trend: Sequence[TrendPoint], bucket: Bucket, value: Callable[[Summary], float | None]
) -> list[Point]:
    points = []
    for tp in trend:
        s = tp.summary
        label = _bucket_label(tp.start, bucket)
        v = value(s)
        points.append(Point(label, v, weak=not s.enough, title=_point_title(label, bucket, v, s)))
    return points


@dataclass(frozen=True)
class ScoreCard:
    kind: str
    short: str
    title: str
    summary: Summary
    value: str
    margin: str
    caption: str
    shares: list[tuple[str, float, str]]  # (css class, percent, label)
    chart: SafeString
    n_label: str


def _caption(summary: Summary) -> str:
    if summary.kind == SurveyKind.CES:
        # Translators: under the CES score, e.g. "mean on 1–7 · 62% easy".
        return gettext("mean on 1–7 · %(percent)s easy") % {"percent": _percent(summary.pct_good)}
    if summary.kind == SurveyKind.CSAT:
        return gettext("share answering 4 or 5")
    # Translators: how NPS is computed, under the score ("%%" is a percent sign).
    return gettext("%% promoters − %% detractors") % {}


def _score_card(summary: Summary, trend: Sequence[TrendPoint], bucket: Bucket) -> ScoreCard:
    kind = summary.kind
    short, title = KIND_TITLES[SurveyKind(kind)]
    y_min, y_max, ticks, reference, suffix = SCALES[kind]
    good, neutral, bad = _share_labels(kind, summary.good, summary.neutral, summary.bad)
    shares = [
        ("good", summary.pct_good or 0.0, good),
        ("neutral", summary.pct_neutral or 0.0, neutral),
        ("bad", summary.pct_bad or 0.0, bad),
    ]
    chart = line_chart(
        _points(trend, bucket, lambda s: s.value),
        y_min=y_min,
        y_max=y_max,
        y_ticks=ticks,
        reference=reference,
        y_suffix=suffix,
        label=per_bucket(str(short), bucket),
    )
    return ScoreCard(
        kind,
        str(short),
        str(title),
        summary,
        format_value(summary),
        format_margin(summary),
        _caption(summary),
        shares,
        chart,
        answers_n(summary.n),
    )


@dataclass(frozen=True)
class Kpi:
    title: str
    value: str
    n: int
    enough: bool
    count: str  # "n = 12 tickets": n and what it counts
    help: str
    minimum: int


def tickets_n(n: int) -> str:
    return ngettext("n = %(n)s ticket", "n = %(n)s tickets", n) % {"n": n}


def _rate_kpi(title: str, rate: Rate, count: Callable[[int], str], help: str) -> Kpi:
    return Kpi(title, _percent(rate.value), rate.n, rate.enough, count(rate.n), help, rate.minimum)


def _duration_kpi(title: str, duration: Duration, help: str) -> Kpi:
    return Kpi(
        title,
        format_duration(duration.median),
        duration.n,
        duration.enough,
        tickets_n(duration.n),
        help,
        duration.minimum,
    )


def _ticket_url(**params: str) -> str:
    return f"{reverse(TICKET_CHANGELIST)}?{urlencode(params)}" if params else ""


def _queue_params(f: MetricFilters) -> dict[str, str]:
    """The dashboard's filters as the ticket admin's own query parameters (those it accepts:
    touchpoint and stage; the segment has no filter there)."""
    params = {"status__in": ",".join(OPEN_TICKET_STATUSES)}
    if f.touchpoints:
        params["touchpoint__id__exact"] = str(f.touchpoints[0])
    if f.stage:
        params["touchpoint__stage__exact"] = f.stage
    return params


def _cell(summary: Summary) -> dict[str, Any]:
    return {"summary": summary, "value": format_value(summary), "margin": format_margin(summary)}


def _breakdown_rows(
    found: dict[Any, dict[str, Summary]], labels: dict[Any, str]
) -> list[dict[str, Any]]:
    rows = []
    for key, label in labels.items():
        scores = found.get(key, {})
        rows.append(
            {
                "label": label,
                "cells": [_cell(scores.get(k, Summary(k))) for k in metrics.KINDS],
            }
        )
    return rows


# --- Views --------------------------------------------------------------------------------------


def _require_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied("You need the “view dashboard” permission (Manager role).")


def _context(request: HttpRequest, title: str, form: PeriodForm) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": title,
        "form": form,
        "min_sample": MIN_SAMPLE,
        "min_tickets": metrics.MIN_TICKETS,
    }


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """NPS, CSAT, CES with their trends, response rate, the ticket queue and the loop KPIs,
    and what customers talk about. Fifteen queries whatever the volume: the form's
    touchpoint and segment choices, the three scores, their trends, the response rate, open
    tickets, the loop KPIs (three), the stage and touchpoint breakdowns, and the topics
    (comments, mentions, their scores, their trend); plus the admin's own (session, user)."""
    _require_permission(request)
    form = _bound(DashboardForm, request.GET)
    context = _context(request, gettext("Dashboard"), form)
    if not form.is_valid():
        return TemplateResponse(request, "admin/dashboard.html", context)
    assert isinstance(form, DashboardForm)
    f, bucket = form.filters(), form.chosen_bucket()
    now = timezone.now()
    with coverage.one_coverage():
        summaries = metrics.score_summaries(f)
        trends = metrics.score_trends(f, bucket)
        rate = metrics.response_rate(f)
        tickets = metrics.open_tickets(f, now=now)
        loop = loop_figures.loop_kpis(f, now=now)
        stages = metrics.breakdown(f, "stage")
        per_touchpoint = metrics.breakdown(f, "touchpoint")
    talk = topics.dashboard_section(f, per_touchpoint, form.touchpoint_names)
    queue = _queue_params(f)
    # The queue's own "overdue" filter (feedback.tickets.models.overdue_q), not a copy of the rule.
    overdue = {**queue, "queue": "overdue"}
    assert f.since is not None and f.until is not None
    since = timezone.localdate(f.since)
    until = timezone.localdate(f.until - timedelta(microseconds=1))
    context.update(
        {
            "bucket": bucket,
            "since": since,
            "until": until,
            "period_label": period_label(since, until),
            "days_label": _days_label(since, until),
            "bucket_label": {
                "day": gettext("trends per day"),
                "week": gettext("trends per week"),
                "month": gettext("trends per month"),
            }[bucket],
            "scores": [_score_card(summaries[k], trends[k], bucket) for k in metrics.KINDS],
            "response_rate": _rate_kpi(
                gettext("Response rate"),
                rate,
                lambda n: (
                    ngettext("n = %(n)s invitation sent", "n = %(n)s invitations sent", n)
                    % {"n": n}
                ),
                gettext("Survey invitations sent in the period that were answered."),
            ),
            "tickets": tickets,
            "open_url": _ticket_url(**queue),
            "overdue_url": _ticket_url(**overdue),
            "kpis": [
                _rate_kpi(
                    gettext("Contacted within SLA"),
                    loop.within_sla,
                    tickets_n,
                    gettext(
                        "Tickets from unhappy answers whose first contact came by the SLA "
                        "deadline (tickets still inside their SLA are not counted yet)."
                    ),
                ),
                _duration_kpi(
                    gettext("Median time to first contact"),
                    loop.first_contact,
                    gettext("From the ticket's creation to the first contact with the customer."),
                ),
                _duration_kpi(
                    gettext("Median time to resolve"),
                    loop.resolve,
                    gettext("From the ticket's creation to its resolution."),
                ),
                _rate_kpi(
                    gettext("Recovery rate"),
                    loop.recovery,
                    lambda n: (
                        ngettext("n = %(n)s follow-up answered", "n = %(n)s follow-ups answered", n)
                        % {"n": n}
                    ),
                    gettext(
                        "Follow-up answers after a resolved ticket that came back in the good "
                        "band (promoter, satisfied, easy)."
                    ),
                ),
            ],
            "stage_rows": _breakdown_rows(stages, dict(JourneyStage.choices)),
            "kinds": [KIND_TITLES[SurveyKind(k)][0] for k in metrics.KINDS],
            "weak_note": _weak_note(bucket),
            "talk": talk,
        }
    )
    return TemplateResponse(request, "admin/dashboard.html", context)


def _days_label(since: date, until: date) -> str:
    """The scope line's dates, both years written: "7 Jan 2026 – 6 Dec 2026"."""
    # Translators: a range of days, e.g. "7 Jan – 6 Dec 2026".
    return gettext("%(since)s – %(until)s") % {
        "since": day_month_year(since),
        "until": day_month_year(until),
    }


def _weak_note(bucket: Bucket) -> str:
    """What a hollow point means, in the chosen grouping."""
    notes = {
        "day": ngettext(
            "Hollow points and dashed lines: fewer than %(min)s answer in that day.",
            "Hollow points and dashed lines: fewer than %(min)s answers in that day.",
            MIN_SAMPLE,
        ),
        "week": ngettext(
            "Hollow points and dashed lines: fewer than %(min)s answer in that week.",
            "Hollow points and dashed lines: fewer than %(min)s answers in that week.",
            MIN_SAMPLE,
        ),
        "month": ngettext(
            "Hollow points and dashed lines: fewer than %(min)s answer in that month.",
            "Hollow points and dashed lines: fewer than %(min)s answers in that month.",
            MIN_SAMPLE,
        ),
    }
    return notes[bucket] % {"min": MIN_SAMPLE}


def _line_note(bucket: Bucket) -> str:
    """The journey map's note on its sparklines, in the chosen grouping."""
    notes = {
        "day": ngettext(
            "The line shows it per day; hollow points had fewer than %(min)s answer.",
            "The line shows it per day; hollow points had fewer than %(min)s answers.",
            MIN_SAMPLE,
        ),
        "week": ngettext(
            "The line shows it per week; hollow points had fewer than %(min)s answer.",
            "The line shows it per week; hollow points had fewer than %(min)s answers.",
            MIN_SAMPLE,
        ),
        "month": ngettext(
            "The line shows it per month; hollow points had fewer than %(min)s answer.",
            "The line shows it per month; hollow points had fewer than %(min)s answers.",
            MIN_SAMPLE,
        ),
    }
    return notes[bucket] % {"min": MIN_SAMPLE}


def health_hue(net: float | None) -> int | None:
    """Card colour: a hue from red (net −100) through amber to green (net +100), linear, so
    the colour shows the number without a threshold of its own. None: too few answers."""
    if net is None:
        return None
    return round((max(min(net, 100.0), -100.0) + 100) / 200 * 130)


def journey_map_view(request: HttpRequest) -> HttpResponse:
    """The six stages as columns and each touchpoint as a card: which touchpoint hurts, and
    its top complaints. Eight queries whatever the volume: segment choices, touchpoints,
    scores now and in the previous period, the trends, interactions and open tickets per
    touchpoint, the topics of its negative comments."""
    _require_permission(request)
    form = _bound(PeriodForm, request.GET)
    context = _context(request, gettext("Journey map"), form)
    if not form.is_valid():
        return TemplateResponse(request, "admin/journey_map.html", context)
    f, bucket = form.filters(), form.auto_bucket()
    complaints = analysis.top_complaints(f)
    columns = []
    for column in metrics.journey_map(f, bucket=bucket):
        cards = []
        for card in column.cards:
            overall = card.overall
            net_points = _points(card.trend, bucket, lambda s: s.net)
            cards.append(
                {
                    "card": card,
                    "tp": card.touchpoint,
                    "hue": health_hue(overall.net) if overall.enough else None,
                    "net": signed(overall.net) if overall.net is not None else "–",
                    "scores": [
                        {
                            "short": KIND_TITLES[SurveyKind(kind)][0],
                            "summary": s,
                            "value": format_value(s),
                            "margin": format_margin(s),
                            "n_label": answers_n(s.n),
                        }
                        for kind, s in card.scores.items()
                    ],
                    "delta": None if card.delta is None else signed(card.delta),
                    "down": card.delta is not None and round(card.delta) < 0,
                    "spark": sparkline(
                        net_points,
                        y_min=-100,
                        y_max=100,
                        label=gettext("%(touchpoint)s: %(chart)s")
                        % {
                            "touchpoint": card.touchpoint.name,
                            "chart": per_bucket(gettext("net score"), bucket),
                        },
                    ),
                    "url": _ticket_url(touchpoint__id__exact=str(card.touchpoint.pk)),
                    "complaints": complaints.get(card.touchpoint.pk, []),
                }
            )
        columns.append({"column": column, "cards": cards})
    assert f.since is not None and f.until is not None
    since = timezone.localdate(f.since)
    until = timezone.localdate(f.until - timedelta(microseconds=1))
    context.update(
        {
            "columns": columns,
            "bucket": bucket,
            "since": since,
            "until": until,
            "days_label": _days_label(since, until),
            "weak_note": _weak_note(bucket),
            "line_note": _line_note(bucket),
        }
    )
    return TemplateResponse(request, "admin/journey_map.html", context)


def home_view(request: HttpRequest) -> HttpResponseRedirect:
    """`/`: the dashboard for those who may see it, the admin index for other staff (agents
    start from their ticket queue, not from a page that would refuse them)."""
    user = request.user
    if user.is_authenticated and user.is_staff and not user.has_perm(PERMISSION):
        return HttpResponseRedirect(reverse("admin:index"))
    return HttpResponseRedirect(reverse("dashboard"))


dashboard = admin.site.admin_view(dashboard_view)
journey_map = admin.site.admin_view(journey_map_view)
