"""What every figure is restricted to (feedback.reporting's metrics, loop and coverage, and
feedback.insights.analysis): a period, touchpoints, stage, channel, segment, survey; and where
each model keeps those values."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from feedback.surveys.models import Invitation, InvitationPurpose, Response


@dataclass(frozen=True)
class MetricFilters:
    """What every figure is restricted to. `until` is exclusive; empty values mean "all".
    `channel` is the touchpoint's channel (web, store, delivery…), not how the answer came in."""

    since: datetime | None = None
    until: datetime | None = None
    touchpoints: tuple[int, ...] = ()
    stage: str = ""
    segment: str = ""
    survey: int | None = None
    channel: str = ""

    @classmethod
    def last_days(cls, days: int, *, now: datetime | None = None, **other: Any) -> MetricFilters:
        """The last `days` calendar days, today included, in the current time zone: whole days
        so that day buckets are complete."""
        today = timezone.localdate(now or timezone.now())
        since = start_of(today - timedelta(days=days - 1))
        return cls(since=since, until=start_of(today + timedelta(days=1)), **other)

    @classmethod
    def between(cls, first: date, last: date, **other: Any) -> MetricFilters:
        """From the start of `first` to the end of `last` (both days included)."""
        return cls(since=start_of(first), until=start_of(last + timedelta(days=1)), **other)

    def previous(self) -> MetricFilters | None:
        """The period of the same length just before this one (for "compared with")."""
        if self.since is None or self.until is None:
            return None
        return replace(self, since=self.since - (self.until - self.since), until=self.since)


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Paths:
    """Where each filter finds its value from a given model."""

    time: str
    touchpoint: str
    customer: str
    survey: str


RESPONSE_PATHS = Paths("submitted_at", "touchpoint", "customer", "survey_id")
INVITATION_PATHS = Paths("sent_at", "interaction__touchpoint", "customer", "survey_id")
TICKET_PATHS = Paths("created_at", "touchpoint", "customer", "response__survey_id")
INTERACTION_PATHS = Paths("occurred_at", "touchpoint", "customer", "")


def filter_q(f: MetricFilters, paths: Paths, *, period: bool = True) -> Q:
    q = Q()
    if period and f.since is not None:
        q &= Q(**{f"{paths.time}__gte": f.since})
    if period and f.until is not None:
        q &= Q(**{f"{paths.time}__lt": f.until})
    if f.touchpoints:
        q &= Q(**{f"{paths.touchpoint}_id__in": f.touchpoints})
    if f.stage:
        q &= Q(**{f"{paths.touchpoint}__stage": f.stage})
    if f.channel:
        q &= Q(**{f"{paths.touchpoint}__channel": f.channel})
    if f.segment:
        q &= Q(**{f"{paths.customer}__segment": f.segment})
    if f.survey is not None:
        if not paths.survey:
            return Q(pk__in=[])  # interactions belong to no survey
        q &= Q(**{paths.survey: f.survey})
    return q


def survey_answers(f: MetricFilters) -> QuerySet[Response]:
    """The answers that count in a score: follow-ups (a ticket's recovery survey) left out."""
    # Answers without an invitation (API, imports) are survey answers too; only follow-ups go.
    # NOT EXISTS: an anti-join against the few non-survey invitations (a partial index holds
    # them), where a LEFT JOIN would hash every invitation to read each answer's purpose
    # (bench/explain/metrics.txt).
    follow_ups = Invitation.objects.filter(pk=OuterRef("invitation_id")).exclude(
        purpose=InvitationPurpose.SURVEY
    )
    return Response.objects.filter(~Exists(follow_ups), filter_q(f, RESPONSE_PATHS)).order_by()
