"""What a request for metrics may ask, and what it means: one rule for the dashboard, the journey
map, /api/v1/metrics/ and the insights API (/api/v1/insights/topics/metrics/, /drivers/).

Each door declares its own fields (a Django form renders a filter bar, a DRF serializer feeds the
OpenAPI schema), then hands the values to these functions; so the default period, the periods on
offer, the date bounds and what an unknown touchpoint or segment gets are decided here once.
Errors are Django `ValidationError`s keyed by the parameter's name: a form adds them to its
fields, the API turns them into its 400. Their texts are translated (the dashboard's staff read
them): the API answers them in the request's language, as DRF does its own, English by default.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, TypeVar

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from feedback.surveys.figures.filters import MetricFilters
from feedback.surveys.models import Survey
from touchpoints.models import Touchpoint

# A trend's step.
Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
DEFAULT_DAYS = 90
PERIODS = [
    ("7", _("Last 7 days")),
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
    ("365", _("Last 365 days")),
    # Translators: the period choice that uses the From and To dates of the filter bar.
    ("custom", _("Dates below")),
]
DEFAULT_PERIOD = str(DEFAULT_DAYS)
assert DEFAULT_PERIOD in dict(PERIODS)
# Three years of answers is what a person compares; longer asks for thousands of buckets.
MAX_DAYS = 3 * 366
# Dates outside these bounds name no feedback, and near date.min / date.max the day arithmetic
# of a period overflows.
EARLIEST = date(1970, 1, 1)
LATEST_AHEAD = timedelta(days=366)

T = TypeVar("T")


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # included
    chosen: str  # a value of PERIODS: "custom" when the dates were given

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def auto_bucket(self) -> Bucket:
        """The bucket that keeps a trend readable: days up to a month, weeks up to ~6 months."""
        return "day" if self.days <= 31 else "week" if self.days <= 200 else "month"


def period_resolve(
    *, period: str = "", since: date | None = None, until: date | None = None, today: date
) -> Period:
    """The days asked for. A chosen period (7, 30, 90, 365) is the last that many days, today
    included, and wins over dates (the dashboard's select leaves its date inputs filled).
    Otherwise `until` defaults to today and `since` to the start of the default period ending on
    `until`: no parameter at all means the last 90 days."""
    if period and period != "custom":
        if period not in dict(PERIODS):
            choices = ", ".join(p for p, _ in PERIODS)
            raise ValidationError(
                {
                    "period": gettext("Unknown period “%(period)s”; use one of %(choices)s.")
                    % {"period": period, "choices": choices}
                }
            )
        days = int(period)
        return Period(today - timedelta(days=days - 1), today, period)
    latest = today + LATEST_AHEAD
    errors: dict[str, str] = {}
    for name, day in (("since", since), ("until", until)):
        if day is not None and not EARLIEST <= day <= latest:
            errors[name] = gettext("Give a day from %(first)s to %(last)s.") % {
                "first": EARLIEST.isoformat(),
                "last": latest.isoformat(),
            }
    if errors:
        raise ValidationError(errors)
    last = until or today
    first = since or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationError({"since": gettext("The first day must not be after the last day.")})
    chosen = Period(first, last, "custom")
    if chosen.days > MAX_DAYS:
        raise ValidationError(
            {
                "since": ngettext(
                    "At most %(n)s day at a time.", "At most %(n)s days at a time.", MAX_DAYS
                )
                % {"n": MAX_DAYS}
            }
        )
    return chosen


def touchpoint_ids(slugs: Sequence[str]) -> tuple[int, ...]:
    """The touchpoints named by these slugs; a slug that names none is refused, whether alone
    or beside known ones (a filter quietly dropped would answer another question). One query."""
    wanted = list(dict.fromkeys(s for s in slugs if s))
    if not wanted:
        return ()
    found = dict(Touchpoint.objects.filter(slug__in=wanted).values_list("slug", "id"))
    unknown = [s for s in wanted if s not in found]
    if unknown:
        names = ", ".join(f"“{s}”" for s in unknown)
        raise ValidationError(
            {"touchpoint": gettext("No touchpoint with the slug %(slugs)s.") % {"slugs": names}}
        )
    return tuple(found[s] for s in wanted)


def known_segments() -> QuerySet[Customer, str]:
    """The segments that some customer is in, in order: the only ones a filter may name."""
    return (
        Customer.objects.exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )


# How long the dashboard's segment choices are reused (as the triage queue's filter choices).
SEGMENT_CHOICES_TIMEOUT = 60


def segment_choices() -> list[str]:
    """``known_segments()`` cached for a minute: its DISTINCT reads every customer (7 ms at
    40,000, growing with the table) and the dashboard asks on every load. A segment first
    used in the last minute is missing from the choices until then."""
    return cache.get_or_set(
        "cxcrm:reporting:segments", lambda: list(known_segments()), SEGMENT_CHOICES_TIMEOUT
    )


def segment_check(segment: str, *, known: Collection[str] | None = None) -> None:
    """Refuses a segment no customer is in (a typo would otherwise read as zero answers).
    `known`: the segments already loaded (the dashboard's choices); else one query."""
    if not segment:
        return
    if known is not None:
        found = segment in known
    else:
        found = known_segments().filter(segment=segment).exists()
    if not found:
        raise ValidationError(
            {
                "segment": gettext("No customer is in the segment “%(segment)s”.")
                % {"segment": segment}
            }
        )


def survey_check(survey: int | None) -> None:
    """Refuses a survey id that names no survey, as an unknown touchpoint is. One query."""
    if survey is not None and not Survey.objects.filter(pk=survey).exists():
        raise ValidationError({"survey": gettext("No survey with the id %(id)s.") % {"id": survey}})


def metrics_query(
    *,
    today: date,
    period: str = "",
    since: date | None = None,
    until: date | None = None,
    touchpoints: Sequence[str] = (),
    stage: str = "",
    channel: str = "",
    segment: str = "",
    survey: int | None = None,
    segments: Collection[str] | None = None,
) -> tuple[Period, MetricFilters]:
    """The period and the filters of a request, every parameter checked, every error reported
    at once (keyed by parameter). `stage` and `channel` come already checked against their
    model choices by each door's choice fields. Up to three queries, each only when its filter
    is asked for: the touchpoints, the segment (none when `segments` is given), the survey."""
    errors: dict[str, Any] = {}

    def collect(check: Callable[[], T]) -> T | None:
        try:
            return check()
        except ValidationError as e:
            errors.update(e.message_dict)
            return None

    resolved = collect(lambda: period_resolve(period=period, since=since, until=until, today=today))
    ids = collect(lambda: touchpoint_ids(touchpoints)) or ()
    collect(lambda: segment_check(segment, known=segments))
    collect(lambda: survey_check(survey))
    if errors or resolved is None:
        raise ValidationError(errors)
    f = MetricFilters.between(
        resolved.since,
        resolved.until,
        touchpoints=ids,
        stage=stage,
        channel=channel,
        segment=segment,
        survey=survey,
    )
    return resolved, f
