"""The dashboard and the journey map: who may see them, what they show, how they refuse bad
filters, and that their cost does not grow with the data."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.reporting.charts import Point, line_chart, sparkline
from feedback.reporting.metrics import MIN_SAMPLE
from feedback.surveys.models import InvitationState
from feedback.surveys.scoring import SurveyKind
from feedback.tickets.models import TicketStatus
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.models import JourneyStage, Touchpoint

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/dashboard/"
JOURNEY = "/admin/journey-map/"


def client_for(group: str | None, *, staff: bool = True) -> Client:
    user = UserFactory(username=f"user-{group}-{staff}", is_staff=staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def scores(kind: str, values: list[int], *, touchpoint: Touchpoint | None = None) -> None:
    survey = SurveyFactory(kind=kind)
    touchpoint = touchpoint or TouchpointFactory(slug="checkout", stage=JourneyStage.ORDER)
    customer = CustomerFactory(segment="vip")
    for value in values:
        interaction = InteractionFactory(touchpoint=touchpoint, customer=customer)
        invitation = InvitationFactory(
            survey=survey,
            interaction=interaction,
            state=InvitationState.RESPONDED,
            sent_at=timezone.now() - timedelta(hours=3),
        )
        ResponseFactory(invitation=invitation, score=value)


def text(page: Any) -> str:
    return re.sub(r"\s+", " ", page.content.decode())


# --- Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [DASHBOARD, JOURNEY])
def test_anonymous_is_sent_to_sign_in(client: Client, url: str) -> None:
    page = client.get(url)
    assert page.status_code == 302
    assert "login" in page["Location"]


@pytest.mark.parametrize("url", [DASHBOARD, JOURNEY])
def test_customers_and_other_non_staff_are_sent_to_sign_in(url: str) -> None:
    page = client_for(None, staff=False).get(url)
    assert page.status_code == 302
    assert "login" in page["Location"]


@pytest.mark.parametrize("url", [DASHBOARD, JOURNEY])
def test_agents_are_refused_managers_see_it(url: str) -> None:
    assert client_for("Agent").get(url).status_code == 403
    assert client_for("Manager").get(url).status_code == 200


def test_home_leads_each_person_to_their_start(client: Client, admin_client: Client) -> None:
    assert admin_client.get("/")["Location"] == DASHBOARD
    assert client_for("Agent").get("/")["Location"] == "/admin/"
    assert client.get("/")["Location"] == DASHBOARD  # and from there to sign-in


def test_admin_index_links_to_both_pages(admin_client: Client) -> None:
    page = admin_client.get("/admin/")
    assert f'href="{DASHBOARD}"' in page.content.decode()
    assert f'href="{JOURNEY}"' in page.content.decode()
    assert f'href="{DASHBOARD}"' not in client_for("Agent").get("/admin/").content.decode()


# --- What the dashboard shows ------------------------------------------------------------------


def test_dashboard_shows_each_figure_with_its_sample(admin_client: Client) -> None:
    # 30 NPS answers: 15 promoters, 9 passives, 6 detractors → NPS +30, n=30 (enough).
    scores(SurveyKind.NPS, [10] * 15 + [8] * 9 + [3] * 6)
    scores(SurveyKind.CSAT, [5, 4, 1])  # too few
    page = admin_client.get(DASHBOARD)
    assert page.status_code == 200
    body = text(page)
    nps, csat, ces = page.context["scores"]
    assert (nps.value, nps.summary.n) == ("+30", 30)
    assert (csat.summary.n, csat.summary.enough, ces.summary.n) == (3, False, 0)
    # p=.5, d=.2: (.25 + .16 + .2)/30 → 1.96·√(.61/30)·100 = 27.9
    assert nps.margin == "±28"
    assert '<span class="cx-value">+30</span>' in body
    assert "n = 30" in body and "±28" in body
    assert f"too few answers (n=3); a score needs {MIN_SAMPLE}" in body
    assert "too few answers (n=0)" in body  # CES
    assert "<svg" in body and "http://" not in body.replace("http://www.w3.org/2000/svg", "")


def test_dashboard_counts_open_and_overdue_and_links_to_the_queue(admin_client: Client) -> None:
    tp = TouchpointFactory(slug="van", stage=JourneyStage.USAGE)
    TicketFactory(touchpoint=tp, status=TicketStatus.OPEN, due_at=timezone.now() - timedelta(1))
    TicketFactory(touchpoint=tp, status=TicketStatus.NEW)
    page = admin_client.get(DASHBOARD, {"touchpoint": "van", "stage": "usage"})
    tickets = page.context["tickets"]
    assert (tickets.open, tickets.overdue) == (2, 1)
    for url in (page.context["open_url"], page.context["overdue_url"]):
        assert f"touchpoint__id__exact={tp.pk}" in url
        queue = admin_client.get(url)
        # The ticket admin accepts the parameters (an unknown one redirects with ?e=1).
        assert queue.status_code == 200, url


def test_filters_narrow_the_figures(admin_client: Client) -> None:
    shop = TouchpointFactory(slug="shop", stage=JourneyStage.ORDER)
    van = TouchpointFactory(slug="van", stage=JourneyStage.USAGE)
    scores(SurveyKind.CSAT, [5, 5], touchpoint=shop)
    scores(SurveyKind.CSAT, [1], touchpoint=van)
    assert admin_client.get(DASHBOARD).context["scores"][1].summary.n == 3
    assert admin_client.get(DASHBOARD, {"stage": "usage"}).context["scores"][1].summary.n == 1
    page = admin_client.get(DASHBOARD, {"touchpoint": "shop", "segment": "vip"})
    assert page.context["scores"][1].summary.n == 2
    old = {"since": "2000-01-01", "until": "2000-01-31"}
    assert admin_client.get(DASHBOARD, old).context["scores"][1].summary.n == 0
    # A chosen period wins over dates left in the form.
    page = admin_client.get(DASHBOARD, {**old, "period": "30"})
    assert page.context["scores"][1].summary.n == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "12"}, "Select a valid choice"),
        ({"since": "yesterday"}, "Enter a valid date"),
        ({"since": "2026-05-01", "until": "2026-04-01"}, "must not be after the last day"),
        ({"since": "1990-01-01", "until": "2026-01-01"}, "At most 1098 days at a time"),
        ({"since": "1969-12-31"}, "Give a day from 1970-01-01"),
        ({"until": "9999-12-31"}, "Give a day from 1970-01-01"),
        ({"touchpoint": "999999"}, "No touchpoint with the slug “999999”."),
        ({"touchpoint": "shop"}, "No touchpoint with the slug “shop”."),
        ({"touchpoint": "<b>"}, "Enter a valid “slug”"),
        ({"stage": "moon"}, "Select a valid choice"),
        ({"segment": "<script>"}, "No customer is in the segment “&lt;script&gt;”."),
        ({"period": "365", "bucket": "day"}, "Too many days"),
    ],
)
def test_bad_filters_give_the_page_with_the_error(
    admin_client: Client, params: dict[str, str], message: str
) -> None:
    page = admin_client.get(DASHBOARD, params)
    assert page.status_code == 200
    body = text(page)
    assert "The figures cannot be shown with these filters." in body
    assert message in body
    assert "<script>" not in body.split("</form>", 1)[1]


def test_journey_map_bad_filters_are_explained(admin_client: Client) -> None:
    page = admin_client.get(JOURNEY, {"since": "2026-13-01"})
    assert page.status_code == 200
    assert "The map cannot be drawn with these filters." in text(page)


# --- The journey map ---------------------------------------------------------------------------


def test_journey_map_has_six_columns_and_cards_that_open_the_queue(admin_client: Client) -> None:
    van = TouchpointFactory(slug="van", name="Home delivery", stage=JourneyStage.USAGE)
    scores(SurveyKind.CSAT, [5] * 20 + [1] * 10, touchpoint=van)
    TicketFactory(touchpoint=van)
    page = admin_client.get(JOURNEY)
    body = text(page)
    assert [c["column"].label for c in page.context["columns"]] == [
        "Discovery", "Engagement", "Order", "Payment", "Usage", "Support"
    ]  # fmt: skip
    href = f"/admin/feedback/ticket/?touchpoint__id__exact={van.pk}"
    assert f'href="{href}"' in body
    assert admin_client.get(href).status_code == 200
    card = page.context["columns"][4]["cards"][0]
    assert card["scores"][0]["value"] == "67%"
    assert card["hue"] == 87  # net +33.3 on −100…100 → 133.3/200 of the way to green (130)
    assert "1</strong> open ticket" in body


# --- Query counts ------------------------------------------------------------------------------


def _populate(n: int) -> None:
    survey = SurveyFactory(kind=SurveyKind.NPS)
    touchpoints = [
        TouchpointFactory(slug=f"tp-{stage}", stage=stage) for stage in JourneyStage.values
    ]
    for i in range(n):
        tp = touchpoints[i % len(touchpoints)]
        invitation = InvitationFactory(
            survey=survey,
            interaction=InteractionFactory(touchpoint=tp),
            state=InvitationState.RESPONDED,
            sent_at=timezone.now() - timedelta(days=i % 80),
        )
        response = ResponseFactory(
            invitation=invitation, score=i % 11, submitted_at=invitation.sent_at
        )
        if i % 11 < 7:
            TicketFactory(
                touchpoint=tp,
                response=response,
                customer=response.customer,
                created_at=response.submitted_at,
                first_contact_at=response.submitted_at + timedelta(hours=i % 50),
            )


def _count(client: Client, url: str) -> int:
    cache.clear()  # the sign-in middleware caches "this user needs no MFA"
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200
    return len(ctx)


# 1 session, 2 user, 3 MFA check of the sign-in middleware, 4 segment choices, 5 touchpoint
# choices (both loaded with the form), 6 the rollups' coverage (read once for every figure),
# 7 scores of the three kinds, 8 their trends, 9 response rate, 10 open and overdue tickets,
# 11 SLA and recovery counts, 12 median to first contact, 13 median to resolve (the loop reads
# raw here: no rollups were built), 14 the stage breakdown, 15 the touchpoint breakdown (the
# touchpoints' key drivers), 16 the analysed comments and their answers' totals per kind,
# 17 the topics' mentions, 18 the mentioning answers' scores, 19 the mentions per week.
DASHBOARD_QUERIES = 19
# 1 session, 2 user, 3 MFA check, 4 segment choices, 5 touchpoints, 6 the rollups' coverage,
# 7 scores per touchpoint, 8 the same in the previous period, 9 trends per touchpoint,
# 10 interactions per touchpoint, 11 open tickets per touchpoint, 12 each touchpoint's top
# complaints (the topics of its negative comments).
JOURNEY_QUERIES = 12


@pytest.mark.parametrize(
    ("url", "expected"), [(DASHBOARD, DASHBOARD_QUERIES), (JOURNEY, JOURNEY_QUERIES)]
)
def test_query_count_does_not_grow_with_the_data(
    admin_client: Client, url: str, expected: int
) -> None:
    _populate(10)
    few = _count(admin_client, url)
    _populate(490)
    many = _count(admin_client, url)
    assert few == many == expected


# --- Charts ------------------------------------------------------------------------------------


def test_line_chart_draws_weak_points_hollow_and_escapes_labels() -> None:
    svg = line_chart(
        [Point("<a>", 10.0), Point("b", None), Point("c", 20.0, weak=True), Point("d", 30.0)],
        y_min=0,
        y_max=100,
        y_ticks=[0, 50, 100],
        label="CSAT & co",
    )
    assert "<a>" not in svg and "&lt;a&gt;" in svg
    assert 'aria-label="CSAT &amp; co"' in svg
    assert svg.count('class="cx-dot"') == 2 and svg.count('class="cx-dot-weak"') == 1
    # The gap at "b" breaks the line; c→d touches a weak point, so it is dashed.
    assert svg.count('class="cx-line"') == 0 and svg.count('class="cx-line-weak"') == 1


def test_empty_charts_say_so() -> None:
    assert "No answers in this period" in line_chart(
        [Point("a", None)], y_min=0, y_max=1, y_ticks=[0, 1], label="x"
    )
    assert "<polyline" not in sparkline([], y_min=0, y_max=1, label="x")


# --- Details: the period, n beside ±, gaps in sparklines, what the colour measures --------------


def test_period_label_names_both_years_when_the_period_spans_two() -> None:
    from datetime import date

    from feedback.reporting.views import period_label

    assert period_label(date(2025, 12, 7), date(2026, 12, 6)) == "7 Dec 2025 – 6 Dec 2026"
    assert period_label(date(2026, 1, 7), date(2026, 12, 6)) == "7 Jan – 6 Dec 2026"


def test_tickets_created_label_shows_the_real_period(admin_client: Client) -> None:
    from datetime import date

    page = admin_client.get(DASHBOARD, {"since": "2025-12-07", "until": "2026-02-06"})
    assert page.context["period_label"] == "7 Dec 2025 – 6 Feb 2026"
    assert "tickets created 7 Dec 2025 – 6 Feb 2026" in text(page)
    assert page.context["since"] == date(2025, 12, 7)


def test_journey_map_cards_show_n_beside_the_margin_and_what_the_colour_measures(
    admin_client: Client,
) -> None:
    van = TouchpointFactory(slug="van", name="Home delivery", stage=JourneyStage.USAGE)
    scores(SurveyKind.CSAT, [5] * 20 + [1] * 10, touchpoint=van)
    body = text(admin_client.get(JOURNEY))
    assert re.search(r"<strong>67%</strong> <small[^>]*>±\d+ · n = 30</small>", body)
    assert "net +33" in body
    assert "Card colour: net score, NPS, CSAT and CES answers together" in body


def test_sparkline_does_not_draw_across_an_empty_period() -> None:
    gap = sparkline(
        [Point("a", 10.0), Point("b", None), Point("c", 20.0), Point("d", 30.0)],
        y_min=0,
        y_max=100,
        label="x",
    )
    # a | c→d: one segment, not a→c across the empty "b".
    assert gap.count('class="cx-spark-line"') == 1
    assert gap.count('class="cx-dot"') == 3
    apart = sparkline(
        [Point("a", 10.0), Point("b", None), Point("c", 20.0)], y_min=0, y_max=100, label="x"
    )
    assert '<line class="cx-spark-line"' not in apart


def test_chart_axis_text_stays_readable_when_the_chart_scales_down() -> None:
    from pathlib import Path

    from feedback.reporting.charts import CHART_WIDTH

    css = (Path(__file__).resolve().parents[2] / "static/cxcrm/dashboard.css").read_text()
    size = float(re.search(r"\.cx-chart text \{ font-size: (\d+)px", css).group(1))  # type: ignore[union-attr]
    svg = line_chart([Point("a", 1.0)], y_min=0, y_max=1, y_ticks=[0, 1], label="x")
    assert f'viewBox="0 0 {CHART_WIDTH} ' in svg
    # A score card is at least 300 px wide (one column on a 390 px phone); the browser test
    # measures the real size at 1366 px.
    assert size * 300 / CHART_WIDTH >= 10.5


def test_segment_choices_are_read_from_the_customers_once_a_minute() -> None:
    from feedback.surveys.figures import query

    CustomerFactory(segment="vip")
    CustomerFactory(segment="")
    assert query.segment_choices() == ["vip"]
    CustomerFactory(segment="b2b")
    with CaptureQueriesContext(connection) as ctx:
        assert query.segment_choices() == ["vip"]  # the cached list: no DISTINCT over customers
    assert len(ctx) == 0
    cache.clear()  # what the minute's end does
    assert query.segment_choices() == ["b2b", "vip"]
