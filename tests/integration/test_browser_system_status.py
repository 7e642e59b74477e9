"""The admin's system status page in a real browser (Debian's Chromium via Playwright, against
a live server), on a laptop and a phone, with a stuck claim, an error and heartbeats to show."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cxcrm.services import heartbeat_record
from cxcrm.workers import worker_beat_record
from feedback.surveys.services.dispatch import dispatch_error_note, invitations_claim
from tests.browser import launch_browser, shot
from tests.factories import InvitationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


def test_system_status_on_a_laptop_and_a_phone(browser: Any, live_server: Any) -> None:
    an_hour_ago = timezone.now() - timedelta(hours=1)
    for _ in range(3):
        InvitationFactory(scheduled_for=an_hour_ago)
    invitations_claim(
        limit=3, now=timezone.now() - timedelta(minutes=4), claimed_by="dispatch@web-1:4242"
    )
    dispatch_error_note(
        "database unavailable: connection failed: server closed the connection unexpectedly"
    )
    worker_beat_record(hostname="dispatch@web-1")
    worker_beat_record(hostname="maintenance@web-1", now=timezone.now() - timedelta(minutes=5))
    heartbeat_record(hostname="dispatch@web-1")
    UserFactory(username="mara", email="mara@cx.example", is_superuser=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.fill("input[name=login]", "mara@cx.example")
    tab.fill("input[name=password]", PASSWORD)
    tab.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    tab.wait_for_load_state("load")
    tab.goto(f"{live_server.url}/admin/")
    tab.get_by_role("link", name=re.compile("System status")).click()
    body = tab.locator("body").inner_text()
    assert "dispatch@web-1:4242" in body
    assert "server closed the connection unexpectedly" in body
    assert "maintenance@web-1" in body
    shot(tab, "system-status-1366")
    tab.set_viewport_size({"width": 390, "height": 844})
    # Nothing wider than the phone's screen but the tables, which scroll inside the page.
    shot(tab, "system-status-phone")
    context.close()
