"""The staff's landing pages in a real browser after `seed_demo`: the dashboard and the journey
map, with their screenshots (Debian's Chromium via Playwright, against a live server)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from tests.browser import launch_browser, shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
DESK = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


@pytest.fixture
def manager_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A signed-in superuser (superusers need no MFA while DEBUG-style defaults apply in
    tests; the MFA rules have their own tests)."""
    call_command("seed_demo", "--seed", "42", "--size", "small", "--no-progress", verbosity=0)
    UserFactory(username="mara", email="mara@cx.example", is_superuser=True)
    context = browser.new_context(viewport=DESK)
    tab = context.new_page()
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.fill("input[name=login]", "mara@cx.example")
    tab.fill("input[name=password]", PASSWORD)
    tab.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    tab.wait_for_load_state("load")
    yield tab
    context.close()


# The smallest on-screen size of the charts' axis text: its font size in viewBox units scaled
# by how wide the chart is drawn.
SMALLEST_AXIS_TEXT = """() => Math.min(...[...document.querySelectorAll('svg.cx-chart')].flatMap(
  svg => [...svg.querySelectorAll('text.cx-axis')].map(t =>
    parseFloat(getComputedStyle(t).fontSize)
      * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width)))"""


def test_dashboard_and_journey_map_after_seed_demo(manager_page: Any, live_server: Any) -> None:
    # One test for both pages: seeding the demo takes longer than everything else here (and
    # the flush after a transactional test would take it away from a second one).
    check_dashboard(manager_page, live_server)
    manager_page.set_viewport_size(DESK)
    check_journey_map(manager_page, live_server)


def check_dashboard(manager_page: Any, live_server: Any) -> None:
    manager_page.goto(f"{live_server.url}/admin/dashboard/")
    body = manager_page.locator("body").inner_text()
    for figure in ("NPS", "CSAT", "CES", "Response rate", "Recovery rate"):
        assert figure.lower() in body.lower(), figure
    assert manager_page.locator("svg").count() >= 3  # the three trend charts
    shot(manager_page, "dashboard")
    # Axis labels readable on a laptop and on a phone.
    for width, height, name in ((1366, 768, "dashboard-1366"), (390, 844, "dashboard-phone")):
        manager_page.set_viewport_size({"width": width, "height": height})
        assert manager_page.evaluate(SMALLEST_AXIS_TEXT) >= 11, width
        shot(manager_page, name)


def check_journey_map(manager_page: Any, live_server: Any) -> None:
    manager_page.goto(f"{live_server.url}/admin/journey-map/")
    body = manager_page.locator("body").inner_text().lower()
    for stage in ("discovery", "engagement", "order", "payment", "usage", "support"):
        assert stage in body, stage
    link = manager_page.locator("a[href*='touchpoint__id__exact']").first
    href = link.get_attribute("href")
    assert href is not None
    shot(manager_page, "journey-map")
    # Every score with a margin shows how many answers it rests on.
    margins = manager_page.locator(".cx-tp-scores small").all_inner_texts()
    assert margins and all(re.fullmatch(r"(±[\d.]+ · )?n = \d+", m) for m in margins), margins
    manager_page.set_viewport_size({"width": 1366, "height": 768})
    shot(manager_page, "journey-map-1366")
    manager_page.set_viewport_size({"width": 390, "height": 844})
    shot(manager_page, "journey-map-phone")
    manager_page.goto(f"{live_server.url}{href}" if href.startswith("/") else href)
    assert "/admin/feedback/ticket/" in manager_page.url
