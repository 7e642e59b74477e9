"""Reading the rollups (feedback.reporting.models): which days they hold, at which grain a figure
reads them, and the conditions that take clean days from them and the rest from the raw rows.
Kept up to date by feedback.reporting.rollups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F, Q, Value
from django.utils import timezone

from feedback.reporting.models import GRAIN_KEEPS, Grain, RollupMark, RollupState
from feedback.surveys.figures.filters import MetricFilters, start_of

Key = tuple[Any, Any]  # (expression on the raw answers, expression on AnswerRollup)


def rollup_days(f: MetricFilters) -> tuple[date | None, date | None] | None:
    """The period as whole days of the rollups' calendar (start included, end excluded), or
    None when it is not (a request in another time zone, a period cut mid-day): raw rows then."""
    if timezone.get_current_timezone_name() != timezone.get_default_timezone_name():
        return None
    days: list[date | None] = []
    for moment in (f.since, f.until):
        if moment is None:
            days.append(None)
            continue
        day = timezone.localdate(moment)
        if start_of(day) != moment:
            return None
        days.append(day)
    return days[0], days[1]


# Which rollup dimension each filter and each grouping needs (models.Grain).
_FILTER_NEEDS = {
    "touchpoints": "touchpoint_id",
    "stage": "touchpoint_id",
    "channel": "touchpoint_id",
    "segment": "segment",
    "survey": "survey_id",
}
_FIELD_NEEDS = {
    "touchpoint": "touchpoint_id",
    "touchpoint_id": "touchpoint_id",
    "segment": "segment",
    "survey": "survey_id",
    "survey_id": "survey_id",
}


def grain_for(f: MetricFilters, keys: Mapping[str, Key] = {}) -> Grain:
    """The coarsest rollup grain that holds the filters and the groupings: the totals when
    there are none, the grain of the one dimension they use, else the full rows."""
    needs = {need for name, need in _FILTER_NEEDS.items() if getattr(f, name) not in ("", (), None)}
    for _, expression in keys.values():
        name = expression.name if isinstance(expression, F) else ""
        root = name.split("__")[0]
        if root in _FIELD_NEEDS:
            needs.add(_FIELD_NEEDS[root])
        elif root not in ("", "kind", "day"):
            return Grain.FULL  # a field this function does not know: the rows that have it
    for grain, keeps in GRAIN_KEEPS.items():
        if set(keeps) == needs:
            return Grain(grain)
    return Grain.FULL


@dataclass(frozen=True)
class Coverage:
    """What the rollups hold, read once per figure: every day before `until` (`start` is its
    first moment) except the marked ones (`marked`, their days; `ranges`, their moments as
    [start, end) runs of adjacent days)."""

    until: date
    start: datetime
    marked: frozenset[date]
    ranges: tuple[tuple[datetime, datetime], ...]


# Set inside `one_coverage()`: the coverage read by the first figure that needed it.
_HELD: ContextVar[list[Coverage | None] | None] = ContextVar("rollup_coverage", default=None)


@contextmanager
def one_coverage() -> Iterator[None]:
    """Figures computed inside read the rollups' coverage once between them (a page's
    figures then agree with each other, and spend one query on it instead of one each)."""
    token = _HELD.set([])
    try:
        yield
    finally:
        _HELD.reset(token)


def coverage() -> Coverage | None:
    held = _HELD.get()
    if held:
        return held[0]
    found = read_coverage()
    if held is not None:
        held.append(found)
    return found


def read_coverage() -> Coverage | None:
    """The rollups' state and marks in one query; None when they were never built. Read into
    Python so that the figure's query carries them as constants: index ranges on the raw
    side, where correlated subqueries made PostgreSQL read every row of the period
    (bench/README.md, issue 20)."""
    state = RollupState.objects.annotate(is_state=Value(True)).values_list(
        "is_state", "until", "start", "start"
    )
    marks = RollupMark.objects.annotate(is_state=Value(False)).values_list(
        "is_state", "day", "start", "end"
    )
    rows = list(state.union(marks, all=True))
    found = [r for r in rows if r[0]]
    if not found:
        return None
    _, until, start, _ = found[0]
    spans = sorted({(day, since, end) for is_state, day, since, end in rows if not is_state})
    ranges: list[tuple[datetime, datetime]] = []
    for _, since, end in spans:
        if ranges and since <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]))
        else:
            ranges.append((since, end))
    return Coverage(until, start, frozenset(s[0] for s in spans), tuple(ranges))


def rollup_q(
    f: MetricFilters, days: tuple[date | None, date | None], grain: Grain, cov: Coverage
) -> Q:
    """The rollup rows of clean days at `grain` matching the filters (stage and channel read
    from the touchpoint now, as the raw figures do)."""
    q = Q(grain=grain, day__lt=cov.until)
    if cov.marked:
        q &= ~Q(day__in=sorted(cov.marked))
    first, end = days
    if first is not None:
        q &= Q(day__gte=first)
    if end is not None:
        q &= Q(day__lt=end)
    if f.touchpoints:
        q &= Q(touchpoint_id__in=f.touchpoints)
    if f.stage:
        q &= Q(touchpoint__stage=f.stage)
    if f.channel:
        q &= Q(touchpoint__channel=f.channel)
    if f.segment:
        q &= Q(segment=f.segment)
    if f.survey is not None:
        q &= Q(survey_id=f.survey)
    return q


def marked_q(time: str, cov: Coverage) -> Q:
    """Raw rows of days not rolled up: from the rollups' end on, and of marked days."""
    q = Q(**{f"{time}__gte": cov.start})
    for since, end in cov.ranges:
        q |= Q(**{f"{time}__gte": since, f"{time}__lt": end})
    return q
