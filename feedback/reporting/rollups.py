"""Keeping the rollups (feedback.reporting.models) right: marking days dirty, recomputing them,
rebuilding them.

The parts below report their writes through signals (feedback.reporting.receivers): a mark per
day touched is inserted in the writer's transaction and, after commit,
`feedback.rollups_refresh` is enqueued for each. The refresh recomputes the day from the
raw rows (delete + insert, idempotent) and deletes only the marks it has seen, so a write that
commits during the recompute keeps its mark and the day stays read from the raw rows until its
own refresh. Measured against updating the sums in the writer's transaction (bench.rollup_writes,
bench/README.md): the marks cost a writer 9–19% of its answers per second, the sums 40–55%.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from feedback.reporting import loop, metrics
from feedback.reporting.metrics import SENT_STATES, MetricFilters
from feedback.reporting.models import (
    GRAIN_KEEPS,
    AnswerRollup,
    Grain,
    InvitationRollup,
    RollupDay,
    RollupMark,
    RollupState,
    TicketRollup,
)
from feedback.surveys.models import Invitation, InvitationPurpose, InvitationState, Response
from feedback.tickets.models import Ticket, TicketSource

# Rows written per INSERT when a rebuild fills many days.
BATCH = 2000


def day_of(moment: datetime) -> date:
    """The local day a moment is filed under: the default time zone's, whatever the request's
    (the rollups have one calendar)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()), tz)
    return start, end


def _span(first: date, last: date) -> tuple[datetime, datetime, Any]:
    """Days first … last (included) as [since, until) and the rollups' time zone."""
    return day_bounds(first)[0], day_bounds(last)[1], timezone.get_default_timezone()


def rollups_mark(*, moments: Iterable[datetime | None]) -> list[date]:
    """Mark the days of these moments (an answer's submitted_at, an invitation's sent_at)
    dirty, in the caller's transaction; returns the days, for the caller to refresh after
    commit."""
    days = sorted({day_of(m) for m in moments if m is not None})
    RollupMark.objects.bulk_create(
        [RollupMark(day=d, start=day_bounds(d)[0], end=day_bounds(d)[1]) for d in days]
    )
    return days


def rollups_mark_customer(*, customer_id: int) -> list[date]:
    """A customer's segment changed: every day with one of their answers or invitations."""
    moments = [
        *Response.objects.filter(customer_id=customer_id).values_list("submitted_at", flat=True),
        *Invitation.objects.filter(customer_id=customer_id, sent_at__isnull=False).values_list(
            "sent_at", flat=True
        ),
        *Ticket.objects.filter(customer_id=customer_id).values_list("created_at", flat=True),
    ]
    return rollups_mark(moments=moments)


def _answer_rows(first: date, last: date) -> list[AnswerRollup]:
    """Days first … last (included) from the raw answers: one grouped query."""
    since, until, tz = _span(first, last)
    rows = (
        metrics.survey_answers(MetricFilters(since=since, until=until))
        .annotate(
            r_day=TruncDate("submitted_at", tzinfo=tz),
            r_segment=F("customer__segment"),
        )
        .values("r_day", "survey_id", "touchpoint_id", "r_segment", "kind")
        .annotate(**metrics.SCORE_AGGREGATES)
    )
    return [
        AnswerRollup(
            day=r["r_day"],
            survey_id=r["survey_id"],
            touchpoint_id=r["touchpoint_id"],
            segment=r["r_segment"],
            kind=r["kind"],
            n=r["n"],
            good=r["good"],
            neutral=r["neutral"],
            bad=r["bad"],
            score_sum=r["score_sum"] or 0,
            score_sq_sum=r["score_sq_sum"] or 0,
        )
        for r in rows
    ]


def _invitation_rows(first: date, last: date) -> list[InvitationRollup]:
    since, until, tz = _span(first, last)
    rows = (
        Invitation.objects.filter(
            purpose=InvitationPurpose.SURVEY,
            state__in=SENT_STATES,
            sent_at__gte=since,
            sent_at__lt=until,
        )
        .order_by()
        .annotate(
            r_day=TruncDate("sent_at", tzinfo=tz),
            r_segment=F("customer__segment"),
        )
        .values("r_day", "survey_id", "interaction__touchpoint_id", "r_segment")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(state=InvitationState.RESPONDED)))
    )
    return [
        InvitationRollup(
            day=r["r_day"],
            survey_id=r["survey_id"],
            touchpoint_id=r["interaction__touchpoint_id"],
            segment=r["r_segment"],
            sent=r["sent"],
            answered=r["answered"],
        )
        for r in rows
    ]


def _ticket_rows(first: date, last: date) -> list[TicketRollup]:
    """The tickets of days first … last, one row per group: read ticket by ticket (the
    durations go into histograms, which SQL does not build portably), one query."""
    since, until, tz = _span(first, last)
    tickets = (
        Ticket.objects.filter(created_at__gte=since, created_at__lt=until)
        .order_by()
        .annotate(
            r_day=TruncDate("created_at", tzinfo=tz),
            r_segment=F("customer__segment"),
            fc=loop.SecondsBetween("created_at", "first_contact_at"),
            res=loop.SecondsBetween("created_at", "resolved_at"),
        )
        .values_list(
            "r_day",
            "response__survey_id",
            "touchpoint_id",
            "r_segment",
            "source",
            "due_at",
            "first_contact_at",
            "recovered",
            "fc",
            "res",
        )
    )
    rows: dict[tuple[Any, ...], TicketRollup] = {}
    for day, survey, touchpoint, segment, source, due, contact, recovered, fc, res in tickets:
        row = rows.get((day, survey, touchpoint, segment))
        if row is None:
            row = rows[(day, survey, touchpoint, segment)] = TicketRollup(
                day=day,
                survey_id=survey,
                touchpoint_id=touchpoint,
                segment=segment,
                **dict.fromkeys(_TICKET_COUNTS, 0),
                first_contact=[0] * loop.SIZE,
                resolve=[0] * loop.SIZE,
            )
        row.created += 1
        if source == TicketSource.RESPONSE and due is not None:
            if contact is None:
                row.sla_waiting += 1
                if row.sla_waiting_due_max is None or due > row.sla_waiting_due_max:
                    row.sla_waiting_due_max = due
            else:
                row.sla_contacted += 1
                row.sla_hits += contact <= due
        if recovered is not None:
            row.recovery_n += 1
            row.recovery_hits += recovered
        if fc is not None:
            row.first_contact[loop.bucket_of(fc)] += 1
        if res is not None:
            row.resolve[loop.bucket_of(res)] += 1
    return list(rows.values())


_TICKET_COUNTS = (
    "created",
    "sla_contacted",
    "sla_hits",
    "sla_waiting",
    "recovery_n",
    "recovery_hits",
)


_ANSWER_SUMS = ("n", "good", "neutral", "bad", "score_sum", "score_sq_sum")


def _coarse(
    fine: list[Any],
    *,
    key: tuple[str, ...] = (),
    sums: tuple[str, ...] = (),
    histograms: tuple[str, ...] = (),
    latest: tuple[str, ...] = (),
) -> list[Any]:
    """The full-grain rows summed into every coarser grain (models.Grain): per day, `key`
    and what the grain keeps, `sums` added, `histograms` added bucket by bucket, the
    maximum of `latest`."""
    coarse: list[Any] = []
    for grain, keeps in GRAIN_KEEPS.items():
        if grain == Grain.FULL:
            continue
        rows: dict[tuple[Any, ...], Any] = {}
        for r in fine:
            kept = {name: getattr(r, name) for name in (*key, *keeps)}
            group = (r.day, *kept.values())
            row = rows.get(group)
            if row is None:
                row = rows[group] = type(r)(
                    day=r.day,
                    grain=grain,
                    **kept,
                    **dict.fromkeys(sums, 0),
                    **{h: [0] * loop.SIZE for h in histograms},
                    **dict.fromkeys(latest),
                )
            for name in sums:
                setattr(row, name, getattr(row, name) + getattr(r, name))
            for name in histograms:
                loop.histogram_add(getattr(row, name), getattr(r, name))
            for name in latest:
                value, top = getattr(r, name), getattr(row, name)
                if value is not None and (top is None or value > top):
                    setattr(row, name, value)
        coarse.extend(rows.values())
    return coarse


def rollup_rows(first: date, last: date) -> tuple[list[Any], list[Any], list[Any]]:
    """Days first … last (included) from the raw rows, at every grain: the answer, invitation
    and ticket rollup rows a recompute writes."""
    answers = _answer_rows(first, last)
    answers += _coarse(answers, key=("kind",), sums=_ANSWER_SUMS)
    invitations = _invitation_rows(first, last)
    invitations += _coarse(invitations, sums=("sent", "answered"))
    tickets = _ticket_rows(first, last)
    tickets += _coarse(
        tickets,
        sums=_TICKET_COUNTS,
        histograms=("first_contact", "resolve"),
        latest=("sla_waiting_due_max",),
    )
    return answers, invitations, tickets


def _recompute(first: date, last: date) -> int:
    AnswerRollup.objects.filter(day__gte=first, day__lte=last).delete()
    InvitationRollup.objects.filter(day__gte=first, day__lte=last).delete()
    TicketRollup.objects.filter(day__gte=first, day__lte=last).delete()
    answers, invitations, tickets = rollup_rows(first, last)
    AnswerRollup.objects.bulk_create(answers, batch_size=BATCH)
    InvitationRollup.objects.bulk_create(invitations, batch_size=BATCH)
    TicketRollup.objects.bulk_create(tickets, batch_size=BATCH)
    return len(answers) + len(invitations) + len(tickets)


@transaction.atomic
def rollups_refresh(*, day: date) -> bool:
    """Recompute one day if it is marked; False when no mark was left (another refresh saw
    them). Idempotent."""
    seen = RollupMark.objects.filter(day=day).aggregate(last=Max("id"))["last"]
    if seen is None:
        return False
    RollupDay.objects.get_or_create(day=day)
    # The lock serializes refreshes of one day; the marks are read again under it, so a
    # refresh that waited does not redo a day already done.
    RollupDay.objects.select_for_update().get(day=day)
    seen = RollupMark.objects.filter(day=day).aggregate(last=Max("id"))["last"]
    if seen is None:
        return False
    state = RollupState.objects.first()
    if state is not None and day < state.until:
        _recompute(day, day)  # later days are read raw until rolled up
    RollupMark.objects.filter(day=day, id__lte=seen).delete()
    return True


def rollups_marked_days() -> list[date]:
    return list(RollupMark.objects.order_by("day").values_list("day", flat=True).distinct())


def _today() -> date:
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def _state_set(until: date) -> None:
    RollupState.objects.all().delete()
    RollupState.objects.create(until=until, start=day_bounds(until)[0])


def rollups_rebuild(
    *, since: date | None = None, progress: Callable[[date, date, int], None] | None = None
) -> int:
    """Recompute every day from `since` (default: the first answer or invitation) to
    yesterday, a month per transaction, then read them from the rollups (today stays raw);
    the marks of those days present at the start are cleared. Returns the rows written."""
    today = _today()
    if since is None:
        firsts = [
            Response.objects.order_by("submitted_at").values_list("submitted_at", flat=True)[:1],
            Invitation.objects.filter(sent_at__isnull=False)
            .order_by("sent_at")
            .values_list("sent_at", flat=True)[:1],
            Ticket.objects.order_by("created_at").values_list("created_at", flat=True)[:1],
        ]
        known = [day_of(m) for qs in firsts for m in qs]
        since = min(known) if known else today
    seen = RollupMark.objects.aggregate(last=Max("id"))["last"]
    written = 0
    first = since
    last_day = today - timedelta(days=1)
    while first <= last_day:
        month_end = (first.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        end = min(month_end, last_day)
        with transaction.atomic():
            written += _recompute(first, end)
        if progress is not None:
            progress(first, end, written)
        first = end + timedelta(days=1)
    with transaction.atomic():
        if seen is not None:
            RollupMark.objects.filter(day__gte=since, day__lt=today, id__lte=seen).delete()
        _state_set(today)
    return written


@transaction.atomic
def rollups_advance() -> int:
    """Beat: roll up the days that ended since the last run (today's answers are read raw
    until tomorrow). Idempotent; nothing to do before the first rebuild."""
    state = RollupState.objects.select_for_update().first()
    today = _today()
    if state is None or state.until >= today:
        return 0
    written = _recompute(state.until, today - timedelta(days=1))
    _state_set(today)
    return written
