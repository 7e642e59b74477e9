"""The loop figures (issue 20): % of answer tickets contacted within SLA, median time to first
contact and to resolve, recovery rate, tickets created — for the tickets created in a period.

From the rollups (feedback.reporting.models.TicketRollup) for clean closed days, from the raw
tickets for marked days and today, as the answer figures in feedback.reporting.metrics. The
counts are exact. The medians merge per-row histograms over fixed log-scale buckets, so they
are estimates: for a median of one minute or more the estimate is within ±ERROR (relative) of
the exact median (percentile_cont); below a minute within 30 s; at 90 days and more it reads
90 days. The raw source gives the exact median.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import Count, F, Func, Q, QuerySet
from django.db.models.aggregates import Aggregate
from django.db.models.fields import FloatField
from django.utils import timezone

from feedback.reporting.coverage import coverage, grain_for, marked_q, rollup_days, rollup_q
from feedback.reporting.metrics import MIN_TICKETS, Rate, Source
from feedback.reporting.models import TicketRollup
from feedback.surveys.figures.filters import TICKET_PATHS, MetricFilters, filter_q, start_of
from feedback.tickets.models import Ticket, TicketSource

# The histogram: bucket 0 under a minute, BUCKETS buckets of equal ratio from one minute to
# 90 days, one bucket from 90 days on. A bucket is read as its geometric middle, so the error
# is at most the square root of the ratio (about 1.22 per bucket: ±10.3%).
LOW = 60.0
HIGH = 90 * 86400.0
BUCKETS = 60
RATIO = (HIGH / LOW) ** (1 / BUCKETS)
ERROR = math.sqrt(RATIO) - 1
# Upper edges of buckets 0 … BUCKETS; a duration at an edge goes to the bucket above.
EDGES = [LOW * RATIO**i for i in range(BUCKETS + 1)]
SIZE = BUCKETS + 2
ONE_DAY = timedelta(days=1)


def bucket_of(seconds: float) -> int:
    return bisect.bisect_right(EDGES, seconds)


def _middle(bucket: int) -> float:
    if bucket == 0:
        return LOW / 2
    if bucket > BUCKETS:
        return HIGH
    return LOW * RATIO ** (bucket - 0.5)


def histogram(durations: Iterable[float]) -> list[int]:
    counts = [0] * SIZE
    for seconds in durations:
        counts[bucket_of(seconds)] += 1
    return counts


def histogram_add(total: list[int], more: list[int]) -> None:
    for i, n in enumerate(more):
        total[i] += n


def histogram_median(counts: list[int]) -> float | None:
    """The middle of the one or two middle durations' buckets (their mean when n is even,
    as percentile_cont takes the mean of the two middle values)."""
    n = sum(counts)
    if n == 0:
        return None
    wanted = [(n - 1) // 2, n // 2]
    found: list[float] = []
    seen = 0
    for bucket, count in enumerate(counts):
        while wanted and wanted[0] < seen + count:
            found.append(_middle(bucket))
            wanted.pop(0)
        seen += count
    return round(sum(found) / 2, 3)


@dataclass(frozen=True)
class Duration:
    """The median of `n` durations, in seconds."""

    n: int
    median_seconds: float | None
    minimum: int = MIN_TICKETS

    @property
    def enough(self) -> bool:
        return self.n >= self.minimum and self.median_seconds is not None

    @property
    def median(self) -> timedelta | None:
        return None if self.median_seconds is None else timedelta(seconds=self.median_seconds)


@dataclass(frozen=True)
class LoopKpis:
    within_sla: Rate  # detractor tickets first contacted by their due time
    first_contact: Duration  # created → first contact
    resolve: Duration  # created → resolved
    recovery: Rate  # follow-up answer back in the good band
    created: int = 0  # tickets created in the period


class SecondsBetween(Func):
    """end − start in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()

    def __init__(self, start: str, end: str) -> None:
        super().__init__(F(start), F(end))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        start_sql, start_params = compiler.compile(self.source_expressions[0])
        end_sql, end_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"EXTRACT(EPOCH FROM ({end_sql} - {start_sql}))::double precision"
        elif connection.vendor == "sqlite":
            sql = f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)"
        else:
            raise NotSupportedError(f"SecondsBetween is not written for {connection.vendor}.")
        return sql, [*end_params, *start_params]


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the interpolated median of its expression."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def median_seconds(qs: QuerySet[Any], start: str, end: str) -> Duration:
    """The median of `end − start` over the rows of `qs` that have both. One query.

    PostgreSQL computes it with ``percentile_cont``. SQLite has no ordered-set aggregates, so
    there the query sorts the durations and averages the one or two middle rows (``LIMIT`` and
    ``OFFSET`` from the row count, a subquery): still one statement, and only the one or two
    middle values leave the database.
    """
    rows = qs.filter(**{f"{start}__isnull": False, f"{end}__isnull": False}).order_by()
    if connection.vendor == "postgresql":
        row = rows.aggregate(n=Count("id"), median=PercentileCont(SecondsBetween(start, end)))
        return Duration(row["n"], row["median"])
    return _median_by_offset(rows, start, end)


def _median_by_offset(rows: QuerySet[Any], start: str, end: str) -> Duration:
    inner, params = rows.annotate(d=SecondsBetween(start, end)).values("d").query.sql_with_params()
    # COUNT(*) is read twice from the same subquery; SQLite plans it once per use, which is
    # two index scans of the filtered rows, not a loop.
    sql = (
        f"SELECT (SELECT COUNT(*) FROM ({inner}) AS c), AVG(d) FROM ("
        f" SELECT d FROM ({inner}) AS s ORDER BY d"
        f" LIMIT 2 - (SELECT COUNT(*) FROM ({inner}) AS c2) %% 2"
        f" OFFSET ((SELECT COUNT(*) FROM ({inner}) AS c3) - 1) / 2"
        f") AS middle"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *params, *params, *params])
        n, median = cursor.fetchone()
    # julianday() is a float of days with sub-millisecond noise, so keep milliseconds.
    return Duration(n or 0, None if median is None else round(float(median), 3))


FROM_ANSWERS = Q(source=TicketSource.RESPONSE, due_at__isnull=False)
IN_TIME = Q(first_contact_at__isnull=False, first_contact_at__lte=F("due_at"))


def _counts(tickets: QuerySet[Ticket], now: datetime) -> dict[str, int]:
    decided = Q(first_contact_at__isnull=False) | Q(due_at__lt=now)
    return tickets.aggregate(
        created=Count("id"),
        sla_n=Count("id", filter=FROM_ANSWERS & decided),
        sla_hits=Count("id", filter=FROM_ANSWERS & IN_TIME),
        recovery_n=Count("id", filter=Q(recovered__isnull=False)),
        recovery_hits=Count("id", filter=Q(recovered=True)),
    )


def _kpis(row: Mapping[str, int], first_contact: Duration, resolve: Duration) -> LoopKpis:
    return LoopKpis(
        within_sla=Rate(row["sla_n"], row["sla_hits"], MIN_TICKETS),
        first_contact=first_contact,
        resolve=resolve,
        recovery=Rate(row["recovery_n"], row["recovery_hits"], MIN_TICKETS),
        created=row["created"],
    )


def durations(tickets: QuerySet[Ticket]) -> Iterable[tuple[float | None, float | None]]:
    """(to first contact, to resolve) in seconds per ticket, None where not reached."""
    return tickets.annotate(
        fc=SecondsBetween("created_at", "first_contact_at"),
        res=SecondsBetween("created_at", "resolved_at"),
    ).values_list("fc", "res")


# The pages read the loop from the rollups' totals grain (a row a day) unless a filter needs a
# finer one; "raw" is what they are checked against.
LOOP_SOURCE: Source = "rollups"


def loop_kpis(
    f: MetricFilters, *, now: datetime | None = None, source: Source = LOOP_SOURCE
) -> LoopKpis:
    """How the loop is closed for the tickets created in the period.

    Within SLA: of the tickets opened by an answer, the share first contacted by `due_at`.
    A ticket still inside its SLA and not yet contacted has no outcome yet and is left out, so
    a fresh ticket does not count as a miss. Recovery: of the tickets whose follow-up was
    answered (`recovered` set), the share that came back in the good band.

    Raw: three queries, exact medians. Rollups: four (the rollup rows; the marked days' counts
    and durations; the misses of days still inside an SLA), whatever the period's length."""
    now = now or timezone.now()
    tickets = Ticket.objects.filter(filter_q(f, TICKET_PATHS)).order_by()
    days = rollup_days(f) if source == "rollups" else None
    cov = coverage() if days is not None else None
    if days is None or cov is None:
        return _kpis(
            _counts(tickets, now),
            median_seconds(tickets, "created_at", "first_contact_at"),
            median_seconds(tickets, "created_at", "resolved_at"),
        )
    raw = tickets.filter(marked_q("created_at", cov))
    row = _counts(raw, now)
    first_contact, resolve = [0] * SIZE, [0] * SIZE
    for fc, res in durations(raw):
        if fc is not None:
            first_contact[bucket_of(fc)] += 1
        if res is not None:
            resolve[bucket_of(res)] += 1
    waiting_days: set[Any] = set()
    for r in TicketRollup.objects.filter(rollup_q(f, days, grain_for(f), cov)).order_by().values():
        row["created"] += r["created"]
        row["sla_n"] += r["sla_contacted"]
        row["sla_hits"] += r["sla_hits"]
        row["recovery_n"] += r["recovery_n"]
        row["recovery_hits"] += r["recovery_hits"]
        histogram_add(first_contact, r["first_contact"])
        histogram_add(resolve, r["resolve"])
        if r["sla_waiting"]:
            if r["sla_waiting_due_max"] < now:
                row["sla_n"] += r["sla_waiting"]
            else:
                waiting_days.add(r["day"])
    if waiting_days:
        # Days with a ticket still inside its SLA: their misses so far, counted raw (the days
        # of the last SLA window, a range each on the created_at index).
        within = Q()
        for day in waiting_days:
            within |= Q(created_at__gte=start_of(day), created_at__lt=start_of(day + ONE_DAY))
        row["sla_n"] += (
            tickets.filter(within, FROM_ANSWERS, first_contact_at__isnull=True, due_at__lt=now)
            .exclude(marked_q("created_at", cov))
            .count()
        )
    return _kpis(
        row,
        Duration(sum(first_contact), histogram_median(first_contact)),
        Duration(sum(resolve), histogram_median(resolve)),
    )
