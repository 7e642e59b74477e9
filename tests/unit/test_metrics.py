"""feedback.reporting.metrics: every figure checked against values worked out by hand from a few
rows.

The expected numbers are written out (not recomputed with the module's own formulas) so a
wrong formula cannot agree with itself. The medians run on whichever database the suite uses:
SQLite in `make unit` (ORDER BY + OFFSET) and PostgreSQL when DATABASE_URL points at one
(percentile_cont).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.reporting import coverage, loop, metrics
from feedback.reporting.metrics import MIN_SAMPLE, MetricFilters, Summary
from feedback.surveys.figures import query
from feedback.surveys.models import InvitationPurpose, InvitationState, Response
from feedback.surveys.scoring import SurveyKind
from feedback.tickets.models import Ticket, TicketSource, TicketStatus
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
)
from touchpoints.models import Channel, JourneyStage, Touchpoint

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday
ALL = MetricFilters()


def answer(
    kind: str,
    score: int,
    *,
    at: datetime = NOW,
    touchpoint: Touchpoint | None = None,
    segment: str = "",
    survey: Any = None,
) -> Response:
    survey = survey or SurveyFactory(kind=kind)
    interaction = InteractionFactory(
        touchpoint=touchpoint or TouchpointFactory(slug="web-shop", stage=JourneyStage.ORDER),
        customer=CustomerFactory(segment=segment),
        occurred_at=at,
    )
    invitation = InvitationFactory(
        survey=survey, interaction=interaction, state=InvitationState.RESPONDED, sent_at=at
    )
    return ResponseFactory(invitation=invitation, score=score, submitted_at=at)


def answers(kind: str, scores: list[int], **kwargs: Any) -> None:
    survey = kwargs.pop("survey", None) or SurveyFactory(kind=kind)
    for score in scores:
        answer(kind, score, survey=survey, **kwargs)


# --- Scores ------------------------------------------------------------------------------------


@pytest.fixture
def coverage_read() -> Any:
    """A figure's own queries: the rollups' coverage is read first, as a page does once for
    all its figures (feedback.reporting.coverage.one_coverage)."""
    with coverage.one_coverage():
        coverage.coverage()
        yield


def test_nps_by_hand_with_its_category_boundaries() -> None:
    # 10 10 9 9 9: promoters (9 is the lowest promoter); 8 7: passives; 6 5 0: detractors.
    answers(SurveyKind.NPS, [10, 10, 9, 9, 9, 8, 7, 6, 5, 0])
    s = metrics.score_summary(SurveyKind.NPS, ALL)
    assert (s.n, s.promoters, s.passives, s.detractors) == (10, 5, 2, 3)
    assert s.value == pytest.approx(20.0)  # 50% − 30%
    # p=.5, d=.3: (.25 + .21 + 2·.15) / 10 = .076; 1.96·√.076·100 = 54.03
    assert s.margin == pytest.approx(54.03, abs=0.01)
    assert not s.enough


def test_csat_is_the_share_of_4_and_5() -> None:
    answers(SurveyKind.CSAT, [1, 2, 3, 4, 5, 5])
    s = metrics.score_summary(SurveyKind.CSAT, ALL)
    assert (s.good, s.neutral, s.bad) == (3, 1, 2)  # 3 is neutral, 2 dissatisfied
    assert s.value == pytest.approx(50.0)
    assert s.margin == pytest.approx(1.96 * math.sqrt(0.25 / 6) * 100)  # 40.01


def test_ces_is_the_mean_and_the_share_easy() -> None:
    answers(SurveyKind.CES, [1, 3, 4, 5, 7])
    s = metrics.score_summary(SurveyKind.CES, ALL)
    assert s.value == pytest.approx(4.0)
    assert s.pct_good == pytest.approx(40.0)  # 5 and 7 are easy, 4 neutral, 3 difficult
    assert (s.good, s.neutral, s.bad) == (2, 1, 2)
    # deviations −3 −1 0 1 3: sample variance 20/4 = 5; 1.96·√(5/5) = 1.96
    assert s.margin == pytest.approx(1.96)


def test_too_few_answers_is_said_not_hidden() -> None:
    survey = SurveyFactory(kind=SurveyKind.NPS)
    answers(SurveyKind.NPS, [9] * (MIN_SAMPLE - 1), survey=survey)
    below = metrics.score_summary(SurveyKind.NPS, ALL)
    assert (below.n, below.enough) == (MIN_SAMPLE - 1, False)
    answer(SurveyKind.NPS, 0, survey=survey)
    at = metrics.score_summary(SurveyKind.NPS, ALL)
    assert (at.n, at.enough) == (MIN_SAMPLE, True)
    assert at.value == pytest.approx(100 * (29 - 1) / 30)


def test_no_answers_give_no_value() -> None:
    s = metrics.score_summary(SurveyKind.NPS, ALL)
    assert (s.n, s.value, s.margin, s.enough) == (0, None, None, False)


def test_all_three_kinds_in_one_query(coverage_read: None) -> None:
    answers(SurveyKind.NPS, [10, 0])
    answers(SurveyKind.CSAT, [5])
    with CaptureQueriesContext(connection) as ctx:
        found = metrics.score_summaries(ALL)
    assert len(ctx) == 1
    assert found["nps"].value == 0 and found["csat"].value == 100
    assert found["ces"] == Summary("ces")


def test_follow_up_answers_measure_recovery_not_the_score() -> None:
    answer(SurveyKind.NPS, 0)
    ticket = TicketFactory()
    followup = InvitationFactory(
        interaction=None,
        ticket=ticket,
        purpose=InvitationPurpose.FOLLOWUP,
        customer=ticket.customer,
        survey=SurveyFactory(kind=SurveyKind.NPS),
    )
    ResponseFactory(invitation=followup, touchpoint=None, score=10, submitted_at=NOW)
    assert metrics.score_summary(SurveyKind.NPS, ALL).n == 1


# --- Filters -----------------------------------------------------------------------------------


def test_every_filter_narrows_the_answers() -> None:
    shop = TouchpointFactory(slug="shop", stage=JourneyStage.ORDER, channel=Channel.WEB)
    van = TouchpointFactory(slug="van", stage=JourneyStage.USAGE, channel=Channel.DELIVERY)
    survey = SurveyFactory(kind=SurveyKind.NPS)
    answer(SurveyKind.NPS, 10, touchpoint=shop, segment="vip", survey=survey)
    answer(SurveyKind.NPS, 0, touchpoint=van, segment="smb", survey=survey)
    answer(SurveyKind.NPS, 8, touchpoint=van, at=NOW - timedelta(days=40))

    def value(**f: Any) -> tuple[int, float | None]:
        s = metrics.score_summary(SurveyKind.NPS, MetricFilters(**f))
        return s.n, s.value

    assert value() == (3, 0.0)
    assert value(touchpoints=(shop.pk,)) == (1, 100.0)
    assert value(stage=JourneyStage.USAGE) == (2, -50.0)
    assert value(channel=Channel.DELIVERY) == (2, -50.0)
    assert value(segment="smb") == (1, -100.0)
    assert value(survey=survey.pk) == (2, 0.0)
    assert value(since=NOW - timedelta(days=30)) == (2, 0.0)
    assert value(until=NOW - timedelta(days=30)) == (1, 0.0)
    # until is exclusive, since inclusive
    assert value(since=NOW, until=NOW + timedelta(seconds=1)) == (2, 0.0)
    assert value(since=NOW - timedelta(days=30), until=NOW) == (0, None)


def test_last_days_are_whole_local_days() -> None:
    f = MetricFilters.last_days(7, now=NOW)
    assert f.since == datetime(2026, 3, 12, tzinfo=UTC)
    assert f.until == datetime(2026, 3, 19, tzinfo=UTC)
    assert f.previous() == MetricFilters(since=datetime(2026, 3, 5, tzinfo=UTC), until=f.since)
    assert MetricFilters.between(date(2026, 3, 1), date(2026, 3, 1)).until == datetime(
        2026, 3, 2, tzinfo=UTC
    )


# --- Trends ------------------------------------------------------------------------------------


def test_trend_buckets_by_day_week_and_month_with_empty_buckets_kept() -> None:
    survey = SurveyFactory(kind=SurveyKind.CSAT)
    # Sun 1 Mar, Mon 2 Mar (new week), Tue 31 Mar, Wed 1 Apr (new month)
    for day, score in [(1, 5), (2, 1), (2, 5), (31, 4)]:
        answer(
            SurveyKind.CSAT,
            score,
            at=datetime(2026, 3, day, 9, tzinfo=UTC),
            survey=survey,
        )
    answer(SurveyKind.CSAT, 2, at=datetime(2026, 4, 1, 23, 59, tzinfo=UTC), survey=survey)
    f = MetricFilters.between(date(2026, 3, 1), date(2026, 4, 1))

    days = metrics.score_trend(SurveyKind.CSAT, f, "day")
    assert len(days) == 32 and days[0].start == date(2026, 3, 1)
    by_day = {p.start: (p.summary.n, p.summary.value) for p in days}
    assert by_day[date(2026, 3, 1)] == (1, 100.0)
    assert by_day[date(2026, 3, 2)] == (2, 50.0)
    assert by_day[date(2026, 3, 3)] == (0, None)
    assert by_day[date(2026, 4, 1)] == (1, 0.0)

    weeks = metrics.score_trend(SurveyKind.CSAT, f, "week")
    assert [p.start for p in weeks][:2] == [date(2026, 2, 23), date(2026, 3, 2)]  # Mondays
    assert [p.summary.n for p in weeks] == [1, 2, 0, 0, 0, 2]  # 30 Mar week: 31 Mar + 1 Apr

    months = metrics.score_trend(SurveyKind.CSAT, f, "month")
    assert [(p.start, p.summary.n, p.summary.value) for p in months] == [
        (date(2026, 3, 1), 4, 75.0),
        (date(2026, 4, 1), 1, 0.0),
    ]


def test_trends_of_all_kinds_are_one_query(coverage_read: None) -> None:
    answers(SurveyKind.NPS, [9])
    answers(SurveyKind.CES, [7])
    with CaptureQueriesContext(connection) as ctx:
        trends = metrics.score_trends(MetricFilters.last_days(7, now=NOW), "day")
    assert len(ctx) == 1
    assert [p.summary.n for p in trends["nps"]] == [0] * 6 + [1]
    assert len(trends["csat"]) == 7


def test_unknown_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="bucket"):
        metrics.score_trends(ALL, "year")  # type: ignore[arg-type]


# --- Breakdowns --------------------------------------------------------------------------------


def test_breakdown_by_touchpoint_stage_and_segment(coverage_read: None) -> None:
    shop = TouchpointFactory(slug="shop", stage=JourneyStage.ORDER)
    van = TouchpointFactory(slug="van", stage=JourneyStage.USAGE)
    answer(SurveyKind.NPS, 10, touchpoint=shop, segment="vip")
    answer(SurveyKind.CSAT, 1, touchpoint=van, segment="vip")
    answer(SurveyKind.CSAT, 5, touchpoint=van, segment="smb")
    with CaptureQueriesContext(connection) as ctx:
        tps = metrics.by_touchpoint(ALL)
    assert len(ctx) == 1
    assert tps[shop.pk]["nps"].value == 100 and "csat" not in tps[shop.pk]
    assert tps[van.pk]["csat"].value == 50
    assert metrics.breakdown(ALL, "stage")[JourneyStage.USAGE]["csat"].n == 2
    assert metrics.breakdown(ALL, "segment")["vip"]["csat"].value == 0


def test_breakdown_trends_by_touchpoint_and_month_in_one_query(coverage_read: None) -> None:
    shop = TouchpointFactory(slug="shop", stage=JourneyStage.ORDER)
    van = TouchpointFactory(slug="van", stage=JourneyStage.USAGE)
    answers(SurveyKind.NPS, [10, 0], touchpoint=shop, at=datetime(2026, 2, 27, tzinfo=UTC))
    answer(SurveyKind.CSAT, 4, touchpoint=van, at=datetime(2026, 3, 2, tzinfo=UTC))
    f = MetricFilters.between(date(2026, 2, 1), date(2026, 3, 31))

    with CaptureQueriesContext(connection) as ctx:
        cells = metrics.breakdown_trends(f, "touchpoint", "month")

    assert len(ctx) == 1
    assert set(cells) == {shop.pk, van.pk}  # only keys with answers
    assert set(cells[shop.pk]) == {"nps", "csat", "ces"}  # every kind, every month
    assert [(p.start, p.summary.n, p.summary.value) for p in cells[shop.pk]["nps"]] == [
        (date(2026, 2, 1), 2, 0.0),
        (date(2026, 3, 1), 0, None),
    ]
    assert [p.summary.n for p in cells[shop.pk]["csat"]] == [0, 0]
    assert [p.summary.value for p in cells[van.pk]["csat"]] == [None, 100.0]


# --- Response rate -----------------------------------------------------------------------------


def test_response_rate_counts_sent_invitations_of_the_period() -> None:
    sent_at = NOW - timedelta(days=1)
    for state in (
        InvitationState.SENT,
        InvitationState.RESPONDED,
        InvitationState.RESPONDED,
        InvitationState.EXPIRED,
    ):
        InvitationFactory(state=state, sent_at=sent_at)
    # Never sent, or not in the period, or a follow-up: not counted.
    InvitationFactory(state=InvitationState.SCHEDULED)
    InvitationFactory(state=InvitationState.FAILED)
    InvitationFactory(state=InvitationState.RESPONDED, sent_at=NOW - timedelta(days=60))
    ticket = TicketFactory()
    InvitationFactory(
        interaction=None,
        ticket=ticket,
        customer=ticket.customer,
        purpose=InvitationPurpose.FOLLOWUP,
        state=InvitationState.RESPONDED,
        sent_at=sent_at,
    )
    rate = metrics.response_rate(MetricFilters(since=NOW - timedelta(days=30)))
    assert (rate.n, rate.hits, rate.value) == (4, 2, 50.0)
    assert not rate.enough
    assert metrics.response_rate(MetricFilters(stage="support")).n == 0  # factory: order stage


# --- Tickets and the loop ----------------------------------------------------------------------


def test_open_and_overdue_tickets() -> None:
    past = NOW - timedelta(hours=1)
    TicketFactory(status=TicketStatus.NEW, due_at=NOW + timedelta(hours=5))  # open, in time
    TicketFactory(status=TicketStatus.OPEN, due_at=past)  # overdue
    TicketFactory(status=TicketStatus.PENDING, due_at=past)  # overdue
    # Contacted in time, still open and past due: the SLA is met, not overdue.
    TicketFactory(status=TicketStatus.OPEN, due_at=past, first_contact_at=past - timedelta(1))
    TicketFactory(
        status=TicketStatus.RESOLVED, due_at=past, root_cause=RootCauseFactory(), resolved_at=past
    )
    counts = metrics.open_tickets(ALL, now=NOW)
    assert (counts.open, counts.overdue) == (4, 2)


def _ticket(created: datetime, **kwargs: Any) -> Ticket:
    kwargs.setdefault("source", TicketSource.RESPONSE)
    return TicketFactory(created_at=created, due_at=created + timedelta(hours=48), **kwargs)


def test_loop_kpis_by_hand() -> None:
    t0 = NOW - timedelta(days=10)
    hours = timedelta(hours=1)
    cause = RootCauseFactory()
    resolved = {"status": TicketStatus.RESOLVED, "root_cause": cause}
    # SLA outcome known: contacted in time (1 h, 2 h, 48 h exactly), late (50 h), never and
    # past due. Not yet known: created an hour ago, no contact. Not from an answer: staff.
    _ticket(
        t0, first_contact_at=t0 + 1 * hours, resolved_at=t0 + 10 * hours, recovered=True, **resolved
    )
    _ticket(
        t0, first_contact_at=t0 + 2 * hours, resolved_at=t0 + 20 * hours, recovered=True, **resolved
    )
    _ticket(
        t0,
        first_contact_at=t0 + 48 * hours,
        resolved_at=t0 + 30 * hours,
        recovered=False,
        **resolved,
    )
    _ticket(t0, first_contact_at=t0 + 50 * hours, resolved_at=t0 + 40 * hours, **resolved)
    _ticket(t0)
    _ticket(NOW - hours)
    _ticket(t0, source=TicketSource.STAFF, first_contact_at=t0 + 100 * hours)
    kpis = loop.loop_kpis(MetricFilters(since=NOW - timedelta(days=30)), now=NOW)
    assert (kpis.within_sla.n, kpis.within_sla.hits) == (5, 3)
    assert kpis.within_sla.value == pytest.approx(60.0)
    # First contact: 1, 2, 48, 50, 100 h → 48 h. Resolve: 10, 20, 30, 40 h → (20 + 30) / 2.
    assert kpis.first_contact.n == 5
    assert kpis.first_contact.median == timedelta(hours=48)
    assert kpis.resolve.n == 4
    assert kpis.resolve.median_seconds == pytest.approx(25 * 3600, abs=1)
    assert (kpis.recovery.n, kpis.recovery.hits) == (3, 2)
    assert kpis.recovery.value == pytest.approx(200 / 3)
    assert not kpis.recovery.enough  # fewer than MIN_TICKETS


def test_medians_of_nothing_and_of_one() -> None:
    assert loop.loop_kpis(ALL, now=NOW, source="raw").first_contact == loop.Duration(0, None)
    t0 = NOW - timedelta(days=1)
    _ticket(t0, first_contact_at=t0 + timedelta(minutes=90))
    one = loop.loop_kpis(ALL, now=NOW, source="raw").first_contact
    assert one.n == 1 and one.median_seconds == pytest.approx(5400, abs=0.5)


def test_loop_kpis_are_three_queries_on_this_database() -> None:
    t0 = NOW - timedelta(days=1)
    for minutes in (10, 20, 30):
        _ticket(t0, first_contact_at=t0 + timedelta(minutes=minutes))
    with CaptureQueriesContext(connection) as ctx:
        kpis = loop.loop_kpis(ALL, now=NOW, source="raw")
    # 1 the SLA and recovery counts, 2 median to first contact, 3 median to resolve
    assert len(ctx) == 3
    assert kpis.first_contact.median == timedelta(minutes=20)
    expected = "PERCENTILE_CONT" if connection.vendor == "postgresql" else "OFFSET"
    assert expected in ctx.captured_queries[1]["sql"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite fallback")
def test_sqlite_median_is_the_middle_of_the_sorted_durations() -> None:
    t0 = NOW - timedelta(days=1)
    for minutes in (5, 1, 1000, 7, 3, 2):  # sorted 1 2 3 5 7 1000: (3 + 5) / 2
        _ticket(t0, first_contact_at=t0 + timedelta(minutes=minutes))
    duration = loop.median_seconds(Ticket.objects.all(), "created_at", "first_contact_at")
    assert duration.median_seconds == pytest.approx(240, abs=0.5)


# --- Journey map -------------------------------------------------------------------------------


def test_journey_map_groups_touchpoints_by_stage_with_their_figures() -> None:
    shop = TouchpointFactory(slug="shop", name="Shop", stage=JourneyStage.ORDER)
    van = TouchpointFactory(slug="van", name="Van", stage=JourneyStage.USAGE)
    TouchpointFactory(slug="old", stage=JourneyStage.USAGE, active=False)  # no answers: left out
    f = MetricFilters.last_days(30, now=NOW)
    answers(SurveyKind.CSAT, [5, 5, 1], touchpoint=van)
    answer(SurveyKind.NPS, 10, touchpoint=shop, at=NOW - timedelta(days=40))  # previous period
    TicketFactory(touchpoint=van, due_at=NOW - timedelta(hours=1))
    InteractionFactory(touchpoint=shop, occurred_at=NOW)
    columns = metrics.journey_map(f, now=NOW)
    assert [c.stage for c in columns] == [s.value for s in JourneyStage]
    usage = next(c for c in columns if c.stage == JourneyStage.USAGE)
    assert [card.touchpoint.slug for card in usage.cards] == ["van"]
    van_card = usage.cards[0]
    assert van_card.scores["csat"].n == 3
    assert van_card.overall.net == pytest.approx(100 / 3)
    assert (van_card.tickets.open, van_card.tickets.overdue) == (1, 1)
    assert van_card.interactions == 3
    order = next(c for c in columns if c.stage == JourneyStage.ORDER)
    shop_card = next(c for c in order.cards if c.touchpoint == shop)
    assert (shop_card.overall.n, shop_card.previous.n, shop_card.interactions) == (0, 1, 1)
    assert shop_card.delta is None  # too few answers on both sides


# --- The period and filters of a request (feedback.surveys.figures.query) ----------------------

TODAY = date(2026, 3, 18)


@pytest.mark.parametrize(
    ("asked", "first", "last", "chosen"),
    [
        ({}, date(2025, 12, 19), TODAY, "custom"),  # 90 days, today included
        ({"period": "7"}, date(2026, 3, 12), TODAY, "7"),
        ({"period": "365", "since": date(2026, 1, 1)}, date(2025, 3, 19), TODAY, "365"),
        ({"period": "custom", "since": date(2026, 3, 1)}, date(2026, 3, 1), TODAY, "custom"),
        ({"until": date(2026, 1, 31)}, date(2025, 11, 3), date(2026, 1, 31), "custom"),
        ({"since": date(2026, 3, 18), "until": date(2026, 3, 18)}, TODAY, TODAY, "custom"),
        # The longest period allowed, and the bounds themselves.
        ({"since": date(2023, 3, 17), "until": TODAY}, date(2023, 3, 17), TODAY, "custom"),
        ({"since": date(1970, 1, 1), "until": date(1970, 1, 2)}, date(1970, 1, 1), None, "custom"),
        ({"since": date(2027, 3, 19)}, None, None, None),
    ],
)
def test_period_rule(asked: dict[str, Any], first: Any, last: Any, chosen: Any) -> None:
    if first is None:  # since after the default until (today)
        with pytest.raises(ValidationError) as refused:
            query.period_resolve(today=TODAY, **asked)
        assert set(refused.value.message_dict) == {"since"}
        return
    period = query.period_resolve(today=TODAY, **asked)

    assert (period.since, period.chosen) == (first, chosen)
    assert last is None or period.until == last
    assert period.days == (period.until - period.since).days + 1


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        ({"period": "12"}, "period"),
        ({"since": date(2023, 3, 16), "until": TODAY}, "since"),  # 1099 days
        ({"since": date(2026, 3, 2), "until": date(2026, 3, 1)}, "since"),
        ({"since": date(1969, 12, 31), "until": date(1970, 1, 5)}, "since"),
        ({"until": date(1, 1, 1)}, "until"),  # would overflow when the default since is taken
        ({"until": date(9999, 12, 31)}, "until"),  # would overflow at the day after
        ({"until": date(2027, 3, 20)}, "until"),  # more than a year ahead
    ],
)
def test_period_rule_refusals(asked: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        query.period_resolve(today=TODAY, **asked)

    assert set(refused.value.message_dict) == {field}


def test_filters_name_what_exists_and_every_error_is_reported_at_once() -> None:
    shop = TouchpointFactory(slug="shop")
    van = TouchpointFactory(slug="van")
    CustomerFactory(segment="vip")
    survey = SurveyFactory()

    period, f = query.metrics_query(
        today=TODAY, touchpoints=["van", "shop", "van"], segment="vip", survey=survey.pk
    )
    assert f == MetricFilters.between(
        period.since, TODAY, touchpoints=(van.pk, shop.pk), segment="vip", survey=survey.pk
    )
    with pytest.raises(ValidationError) as refused:
        query.metrics_query(
            today=TODAY,
            since=TODAY + timedelta(days=1),
            touchpoints=["shop", "bus", "tram"],
            segment="gold",
            survey=survey.pk + 1,
        )
    assert refused.value.message_dict == {
        "since": ["The first day must not be after the last day."],
        "touchpoint": ["No touchpoint with the slug “bus”, “tram”."],
        "segment": ["No customer is in the segment “gold”."],
        "survey": [f"No survey with the id {survey.pk + 1}."],
    }
    # Segments already loaded (the dashboard's choices) are read instead of the database.
    with CaptureQueriesContext(connection) as ctx:
        query.segment_check("vip", known=["vip"])
    assert len(ctx) == 0


def test_loop_kpis_from_the_rollups_are_four_queries() -> None:
    t0 = NOW - timedelta(days=1)
    for minutes in (10, 20, 30):
        _ticket(t0, first_contact_at=t0 + timedelta(minutes=minutes))
    f = MetricFilters.between(NOW.date() - timedelta(days=364), NOW.date())
    with CaptureQueriesContext(connection) as ctx:
        kpis = loop.loop_kpis(f, now=NOW, source="rollups")
    # 1 marked days' counts, 2 their durations, 3 the rollup rows; 4 (SLA misses of days still
    # inside an SLA) only when a rollup row has a ticket waiting: none here.
    assert len(ctx) <= 4
    assert kpis.first_contact.n == 3
    assert kpis.first_contact.median_seconds == pytest.approx(1200, rel=loop.ERROR)
