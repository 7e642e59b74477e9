"""The rollups' grains and coverage (feedback.reporting.coverage): a figure reads the coarsest
grain that holds its filters and groupings, coarse rows are the sums of the full ones (also when
migration 0021 derives them from rollups built before it), and the raw tail of a figure is a
set of time ranges, not a subquery."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F
from django.db.models.functions import TruncWeek
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.reporting import coverage, metrics
from feedback.reporting.models import (
    AnswerRollup,
    Grain,
    InvitationRollup,
    RollupMark,
    RollupState,
    TicketRollup,
)
from feedback.reporting.rollups import day_bounds, rollups_rebuild
from feedback.surveys.figures.filters import MetricFilters
from feedback.surveys.models import InvitationState
from feedback.surveys.scoring import SurveyKind
from tests.factories import (
    InvitationFactory,
    ResponseFactory,
    TicketFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("filters", "group", "grain"),
    [
        ({}, (), Grain.ALL),
        ({}, ("kind",), Grain.ALL),
        ({"survey": 1}, (), Grain.SURVEY),
        ({"touchpoints": (1, 2)}, (), Grain.TOUCHPOINT),
        ({"stage": "order"}, (), Grain.TOUCHPOINT),
        ({"channel": "web"}, ("kind",), Grain.TOUCHPOINT),
        ({"segment": "vip"}, (), Grain.SEGMENT),
        ({}, ("touchpoint__stage", "kind"), Grain.TOUCHPOINT),
        ({"stage": "order"}, ("touchpoint_id",), Grain.TOUCHPOINT),
        ({}, ("segment",), Grain.SEGMENT),
        ({}, ("survey_id",), Grain.SURVEY),
        ({"segment": "vip"}, ("touchpoint_id",), Grain.FULL),
        ({"survey": 1, "channel": "web"}, (), Grain.FULL),
        ({}, ("unknown_field",), Grain.FULL),
    ],
)
def test_a_figure_reads_the_coarsest_grain_that_holds_it(
    filters: dict[str, Any], group: tuple[str, ...], grain: Grain
) -> None:
    keys = {g: (F(g), F(g)) for g in group}
    keys["bucket"] = (TruncWeek("submitted_at"), TruncWeek("day"))
    assert coverage.grain_for(MetricFilters(**filters), keys) == grain


def _world() -> None:
    today = timezone.localdate()
    shop, van = TouchpointFactory(slug="shop"), TouchpointFactory(slug="van", stage="usage")
    for i in range(12):
        at = timezone.now() - timedelta(days=1 + i % 4, hours=i)
        ResponseFactory(
            kind=SurveyKind.NPS if i % 3 else SurveyKind.CSAT,
            score=1 + i % 5 if i % 3 == 0 else i % 11,
            touchpoint=shop if i % 2 else van,
            submitted_at=at,
        )
        if i % 3 == 0:
            InvitationFactory(state=InvitationState.SENT, sent_at=at)
        if i % 4 == 0:
            TicketFactory(touchpoint=shop, created_at=at, first_contact_at=at + timedelta(hours=i))
    assert today


def test_the_unfiltered_figures_read_the_totals_grain() -> None:
    _world()
    rollups_rebuild()
    assert AnswerRollup.objects.filter(grain=Grain.ALL).exists()
    f = MetricFilters.last_days(30)
    with CaptureQueriesContext(connection) as ctx:
        raw = metrics.score_summaries(f, "raw")
        with coverage.one_coverage():
            rolled = metrics.score_summaries(f)
            by_stage = metrics.breakdown(f, "stage")
    assert rolled == raw
    assert by_stage == metrics.breakdown(f, "stage", "raw")
    summary_sql, stage_sql = ctx.captured_queries[2]["sql"], ctx.captured_queries[3]["sql"]
    assert "'all'" in summary_sql and "'touchpoint'" in stage_sql


def _rows(model: Any) -> list[tuple[Any, ...]]:
    fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
    return sorted(
        (tuple(str(v) for v in row) for row in model.objects.values_list(*fields)), key=str
    )


def test_migration_0021_derives_the_same_coarse_rows_as_a_rebuild() -> None:
    _world()
    rollups_rebuild()
    models = (AnswerRollup, InvitationRollup, TicketRollup)
    built = {m: _rows(m) for m in models}
    assert all(built.values())
    for model in models:
        model.objects.exclude(grain=Grain.FULL).delete()
    migration = importlib.import_module("feedback.migrations.0021_rollup_grains")
    migration.add_coarse_grains(apps, None)
    assert {m: _rows(m) for m in models} == built


def test_the_raw_tail_is_index_ranges_of_the_marked_days() -> None:
    until = timezone.localdate()
    RollupState.objects.create(until=until, start=day_bounds(until)[0])
    marked = [until - timedelta(days=d) for d in (9, 8, 8, 3)]  # two adjacent, one twice
    for day in marked:
        RollupMark.objects.create(day=day, start=day_bounds(day)[0], end=day_bounds(day)[1])

    with CaptureQueriesContext(connection) as ctx:
        cov = coverage.read_coverage()
    assert len(ctx) == 1
    assert cov is not None and cov.until == until
    assert cov.marked == frozenset(marked)
    nine, eight, three = (until - timedelta(days=d) for d in (9, 8, 3))
    assert cov.ranges == (
        (day_bounds(nine)[0], day_bounds(eight)[1]),
        day_bounds(three),
    )
    f = MetricFilters.last_days(30)
    with CaptureQueriesContext(connection) as ctx, coverage.one_coverage():
        metrics.score_summaries(f)
    sql = ctx.captured_queries[-1]["sql"].upper()
    assert "ROLLUPMARK" not in sql and "ROLLUPSTATE" not in sql  # constants, not subqueries


def test_without_a_rebuild_every_figure_is_read_raw() -> None:
    _world()
    assert coverage.read_coverage() is None
    f = MetricFilters.between(date(2000, 1, 1), timezone.localdate())
    with CaptureQueriesContext(connection) as ctx:
        assert metrics.score_summaries(f) == metrics.score_summaries(f, "raw")
    assert "ANSWERROLLUP" not in ctx.captured_queries[1]["sql"].upper()


def test_who_works_a_ticket_and_how_urgent_it_is_mark_no_day(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from feedback.tickets.models import TicketPriority
    from feedback.tickets.services import ticket_log_contact, ticket_set_priority
    from tests.factories import UserFactory

    ticket = TicketFactory()
    agent = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=False):
        ticket_set_priority(ticket_id=ticket.pk, priority=TicketPriority.URGENT, actor=agent)
    assert not RollupMark.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        ticket_log_contact(ticket_id=ticket.pk, actor=agent)
    assert RollupMark.objects.filter(day=timezone.localdate(ticket.created_at)).exists()
