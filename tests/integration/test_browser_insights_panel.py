"""The workspace's insights panel in a real browser at 1366×768 and 390×844, about an Arabic
comment: the topics, the sentiment and the similar resolved tickets with their root cause are
on the page, and nothing in the panel is wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.insights.models import CommentInsight, InsightSource, Topic, TopicAssignment
from feedback.tickets.models import Ticket, TicketStatus
from tests.browser import launch_browser, shot
from tests.factories import CustomerFactory, ResponseFactory, RootCauseFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
RNG = np.random.default_rng(18)
BASE = RNG.normal(size=384)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


def _insight(ticket: Ticket, text: str, noise: float, n: int, **fields: Any) -> CommentInsight:
    vector = BASE + noise * RNG.normal(size=384)
    return CommentInsight.objects.create(
        source=InsightSource.ANSWER,
        source_id=n,
        text=text,
        occurred_at=timezone.now(),
        response=ticket.response,
        ticket=ticket,
        embedding=(vector / np.linalg.norm(vector)).astype("<f2").tobytes(),
        enriched_at=timezone.now(),
        language="ar",
        **fields,
    )


def _world() -> Ticket:
    late = RootCauseFactory(name="Late delivery")
    for n, (resolution, noise) in enumerate(
        [
            (
                "Apologised, refunded the delivery fee, raised the depot delay with the carrier.",
                0.1,
            ),
            ("Re-sent by express; the parcel had been sitting at the regional depot.", 0.15),
        ],
        start=1,
    ):
        past = TicketFactory(
            subject="الطرد عالق في المستودع",
            response=ResponseFactory(score=2),
            status=TicketStatus.RESOLVED,
            resolved_at=timezone.now(),
            root_cause=late,
            resolution=resolution,
        )
        _insight(past, "…", noise, n)
    comment = 'التتبع يقول "تم التسليم" ولا يوجد شيء عند الباب، والجيران لم يستلموا شيئًا.'
    ticket = TicketFactory(
        customer=CustomerFactory(name="ليلى حداد", language="ar"),
        response=ResponseFactory(score=1, comment=comment),
    )
    insight = _insight(ticket, comment, 0.0, 99, sentiment="negative", sentiment_confidence=0.91)
    for slug, name, confidence in (("delivery", "Delivery", 0.9), ("staff", "Staff", 0.55)):
        topic = Topic.objects.create(slug=slug, name=name)
        TopicAssignment.objects.create(insight=insight, topic=topic, confidence=confidence)
    return ticket


def test_the_insights_panel_fits_a_laptop_and_a_phone(
    browser: Any, live_server: Any, admin_user: Any
) -> None:
    ticket = _world()
    client = Client()
    client.force_login(admin_user)
    url = live_server.url + reverse("admin:feedback_ticket_change", args=[ticket.pk])
    for name, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        tab = context.new_page()
        tab.goto(url)
        panel = tab.locator(".cx-panel--insights")
        panel.scroll_into_view_if_needed()
        assert panel.is_visible()
        text = panel.inner_text()
        assert "Delivery" in text and "Staff" in text and "Negative" in text
        assert "Suggested root cause: Late delivery" in text
        assert "refunded the delivery fee" in text
        box = panel.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]
        shot(tab, f"insights-panel-{name}")
        panel.screenshot(path=f"/tmp/shots/insights-panel-only-{name}.png")
        context.close()
