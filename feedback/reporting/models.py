"""Rollups: the dashboard's answer and invitation figures summed per local day, so a period's
figure reads a few hundred rows per day instead of every answer (issue 20).

A rollup row is never updated in place: a day is recomputed from the raw rows (delete +
insert, feedback.reporting.rollups) after a write marks it dirty. Reads take clean days from
here and marked days from the raw rows, so figures are exact before the recompute runs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# No foreign-key constraints: a rollup row is derived data, rebuilt from the raw rows; a
# deleted survey or touchpoint must not be blocked (nor cascade) by its figures.
_LINK = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


class Grain(models.TextChoices):
    """Which of survey, touchpoint and segment a rollup row keeps. A day is stored at every
    grain: `full` rows keep all three (any combination of filters reads them), the others sum
    the full rows over what they drop, so a figure that needs one dimension or none reads a
    few rows per day whatever the number of answers (issue 20: flat at a million)."""

    FULL = "full"
    ALL = "all"  # the day's totals
    SURVEY = "survey"
    TOUCHPOINT = "touchpoint"
    SEGMENT = "segment"


# What each grain keeps of (survey, touchpoint, segment); the columns it drops are null.
GRAIN_KEEPS: dict[str, tuple[str, ...]] = {
    Grain.FULL: ("survey_id", "touchpoint_id", "segment"),
    Grain.ALL: (),
    Grain.SURVEY: ("survey_id",),
    Grain.TOUCHPOINT: ("touchpoint_id",),
    Grain.SEGMENT: ("segment",),
}


def _grain_field() -> models.CharField:
    return models.CharField(max_length=10, choices=Grain.choices, default=Grain.FULL)


class AnswerRollup(models.Model):
    """Survey answers (follow-ups left out, as in metrics.survey_answers) of one local day with the
    same survey, touchpoint, customer segment and kind. The sums give every Summary figure,
    including the margin (score_sq_sum)."""

    day = models.DateField()
    grain = _grain_field()
    survey = models.ForeignKey("feedback.Survey", null=True, **_LINK)
    touchpoint = models.ForeignKey("touchpoints.Touchpoint", null=True, **_LINK)
    # Null when the row has no customer: the raw figures group those apart from "" too.
    segment = models.CharField(max_length=64, null=True, blank=True)
    kind = models.CharField(max_length=8)
    n = models.PositiveIntegerField()
    good = models.PositiveIntegerField()
    neutral = models.PositiveIntegerField()
    bad = models.PositiveIntegerField()
    score_sum = models.BigIntegerField()
    score_sq_sum = models.BigIntegerField()

    class Meta:
        verbose_name = _("answer rollup")
        verbose_name_plural = _("answer rollups")
        indexes = [
            models.Index(fields=["day"], name="answer_rollup_day"),
            models.Index(fields=["grain", "day"], name="answer_rollup_grain_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.n}"


class InvitationRollup(models.Model):
    """Survey invitations sent on one local day (sent_at) with the same survey, touchpoint
    (the interaction's) and customer segment: how many, how many answered."""

    day = models.DateField()
    grain = _grain_field()
    survey = models.ForeignKey("feedback.Survey", null=True, **_LINK)
    touchpoint = models.ForeignKey("touchpoints.Touchpoint", null=True, **_LINK)
    # Null when the row has no customer: the raw figures group those apart from "" too.
    segment = models.CharField(max_length=64, null=True, blank=True)
    sent = models.PositiveIntegerField()
    answered = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("invitation rollup")
        verbose_name_plural = _("invitation rollups")
        indexes = [
            models.Index(fields=["day"], name="invitation_rollup_day"),
            models.Index(fields=["grain", "day"], name="invitation_rollup_grain_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.answered}/{self.sent}"


class RollupMark(models.Model):
    """A day whose rollups may be stale: inserted in the transaction of the write that changed
    one of its figures (insert-only, so writers never wait on each other), deleted by the
    recompute that saw that write. `start`/`end` are the day's bounds, so a read finds the raw
    rows of marked days by a range on an indexed timestamp."""

    day = models.DateField(db_index=True)
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        verbose_name = _("rollup mark")
        verbose_name_plural = _("rollup marks")

    def __str__(self) -> str:
        return str(self.day)


class RollupDay(models.Model):
    """One row per recomputed day, locked by its recompute: two recomputes of one day in
    parallel would each delete then insert, leaving the day counted twice."""

    day = models.DateField(unique=True)

    class Meta:
        verbose_name = _("rollup day")
        verbose_name_plural = _("rollup days")

    def __str__(self) -> str:
        return str(self.day)


class RollupState(models.Model):
    """One row: the rollups hold every day before `until` (`start`: its first moment). Days
    from `until` on (today, answers dated ahead) are read from the raw rows; without this row
    (never rebuilt) every figure is. The sweep moves it forward each day."""

    until = models.DateField()
    start = models.DateTimeField()

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"until {self.until}"


class TicketRollup(models.Model):
    """Tickets created on one local day with the same survey (the answer's), touchpoint and
    customer segment: the loop figures' counts, and the durations to first contact and to
    resolve as histograms over feedback.reporting.loop's fixed log-scale buckets (lists of
    counts), which merge across rows by adding them."""

    day = models.DateField()
    grain = _grain_field()
    survey = models.ForeignKey("feedback.Survey", null=True, **_LINK)
    touchpoint = models.ForeignKey("touchpoints.Touchpoint", null=True, **_LINK)
    # Null when the row has no customer: the raw figures group those apart from "" too.
    segment = models.CharField(max_length=64, null=True, blank=True)
    created = models.PositiveIntegerField()
    # Tickets opened by an answer with an SLA: contacted, contacted by due_at, not contacted.
    sla_contacted = models.PositiveIntegerField()
    sla_hits = models.PositiveIntegerField()
    sla_waiting = models.PositiveIntegerField()
    # The latest due_at of the waiting ones: once past, every one of them is a miss; before,
    # the reads count that day's misses from the raw rows (days inside the SLA window).
    sla_waiting_due_max = models.DateTimeField(null=True)
    recovery_n = models.PositiveIntegerField()
    recovery_hits = models.PositiveIntegerField()
    first_contact = models.JSONField()
    resolve = models.JSONField()

    class Meta:
        verbose_name = _("ticket rollup")
        verbose_name_plural = _("ticket rollups")
        indexes = [
            models.Index(fields=["day"], name="ticket_rollup_day"),
            models.Index(fields=["grain", "day"], name="ticket_rollup_grain_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.created} tickets"
