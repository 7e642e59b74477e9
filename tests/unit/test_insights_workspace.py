"""The insights panel of the ticket workspace (feedback.insights.workspace through the
tickets' panel registry): the comment's topics and sentiment, the three closest resolved
tickets with their root cause and resolution, the most common cause suggested; no panel for
a ticket whose text is not enriched yet; the bounded number of queries."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.insights.models import CommentInsight, InsightSource, Topic, TopicAssignment
from feedback.insights.workspace import suggested_root_cause, unpack
from feedback.tickets.models import Ticket, TicketStatus
from tests.factories import ResponseFactory, RootCauseFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_default_topics(db: Any) -> None:
    # Migration 0025 seeds the ten default topics; these tests build their own taxonomy.
    Topic.objects.all().delete()


RNG = np.random.default_rng(18)
BASE = RNG.normal(size=384)


def _vector(noise: float) -> np.ndarray:
    """A unit vector at a controlled distance from BASE (more noise: less similar)."""
    v = BASE + noise * RNG.normal(size=384)
    return (v / np.linalg.norm(v)).astype(np.float32)


def _pack(v: np.ndarray) -> bytes:
    return v.astype("<f2").tobytes()


_ids = iter(range(1, 10**6))


def _insight(ticket: Ticket, vector: np.ndarray, **fields: Any) -> CommentInsight:
    return CommentInsight.objects.create(
        source=InsightSource.ANSWER,
        source_id=next(_ids),
        text="…",
        occurred_at=timezone.now(),
        response=ticket.response,
        ticket=ticket,
        embedding=_pack(vector),
        enriched_at=timezone.now(),
        language="en",
        **fields,
    )


def _resolved(cause: str, resolution: str, noise: float) -> Ticket:
    ticket = TicketFactory(
        response=ResponseFactory(score=2),
        status=TicketStatus.RESOLVED,
        resolved_at=timezone.now(),
        root_cause=RootCauseFactory(name=cause),
        resolution=resolution,
    )
    _insight(ticket, _vector(noise))
    return ticket


def _page(client: Client, ticket: Ticket) -> str:
    page = client.get(reverse("admin:feedback_ticket_change", args=[ticket.pk]))
    assert page.status_code == 200
    return page.content.decode()


def test_the_panel_shows_topics_sentiment_and_the_closest_resolved_tickets(
    admin_client: Client,
) -> None:
    near_late = _resolved("Late delivery", "Refunded the delivery fee.", 0.05)
    also_late = _resolved("Late delivery", "Chased the carrier; parcel delivered.", 0.1)
    damaged = _resolved("Damaged item", "Sent a replacement.", 0.15)
    far = _resolved("Billing error", "Refunded the double charge.", 50.0)  # unrelated
    ticket = TicketFactory(response=ResponseFactory(score=1, comment="Parcel late again."))
    insight = _insight(ticket, _vector(0.0), sentiment="negative", sentiment_confidence=0.93)
    delivery = Topic.objects.create(name="Delivery", slug="delivery")
    TopicAssignment.objects.create(insight=insight, topic=delivery, confidence=0.88)

    html = _page(admin_client, ticket)

    assert "What the customer talks about" in html
    assert "Delivery" in html and "Negative" in html and "93%" in html
    # The three closest, closest first, each with its cause and resolution; not the far one.
    assert html.index(f"#{near_late.pk} ") < html.index(f"#{also_late.pk} ")
    assert html.index(f"#{also_late.pk} ") < html.index(f"#{damaged.pk} ")
    assert f"#{far.pk} " not in html
    assert "Refunded the delivery fee." in html and "Sent a replacement." in html
    assert 'Suggested root cause: <strong dir="auto">Late delivery</strong>' in html
    # One-click correction: each topic has its remove button, posting to the insights admin's
    # correction endpoint.
    assert 'aria-label="Remove the topic Delivery"' in html
    assert "/correct/" in html


def test_no_panel_before_the_text_is_enriched(admin_client: Client) -> None:
    ticket = TicketFactory(response=ResponseFactory(score=1, comment="Late."))
    assert "What the customer talks about" not in _page(admin_client, ticket)


def test_the_panel_costs_the_same_queries_for_1_or_40_past_tickets(admin_client: Client) -> None:
    def count(past: int) -> int:
        for _ in range(past):
            _resolved("Late delivery", "Refunded.", 0.1)
        ticket = TicketFactory(response=ResponseFactory(score=1, comment="Late."))
        _insight(ticket, _vector(0.0), sentiment="negative")
        url = reverse("admin:feedback_ticket_change", args=[ticket.pk])
        admin_client.get(url)  # warm: the first request also loads what the session caches
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    # The panel: the insight, its topics, the candidates' embeddings, the three tickets.
    assert count(1) == count(40)


def test_the_suggested_cause_is_the_most_common_ties_to_the_closest() -> None:
    a, b = RootCauseFactory(name="A"), RootCauseFactory(name="B")
    similar = [{"ticket": Ticket(root_cause=c)} for c in (b, a, a)]
    assert suggested_root_cause(similar) == a
    assert suggested_root_cause([{"ticket": Ticket(root_cause=c)} for c in (b, a)]) == b
    assert suggested_root_cause([]) is None


def test_unpack_reads_the_stored_float16() -> None:
    v = _vector(0.3)
    assert np.allclose(unpack(_pack(v)), v, atol=1e-3)
    assert unpack(_pack(v)).dtype == np.float32


def test_the_panels_remove_button_posts_a_correction_the_endpoint_takes(
    admin_client: Client,
) -> None:
    import re

    ticket = TicketFactory(response=ResponseFactory(score=1, comment="Parcel late again."))
    insight = _insight(ticket, _vector(0.0), sentiment="negative", sentiment_confidence=0.9)
    delivery = Topic.objects.create(name="Delivery", slug="delivery")
    TopicAssignment.objects.create(insight=insight, topic=delivery, confidence=0.88)
    html = _page(admin_client, ticket)
    form = re.search(r'<form method="post" action="([^"]+)" class="cx-topic-form">', html)
    topic = re.search(r'name="topic" value="([^"]+)"', html)
    assert form and topic

    reply = admin_client.post(
        form.group(1), {"topic": topic.group(1), "present": "0"}, HTTP_REFERER="/admin/"
    )

    assert reply.status_code == 302
    kept = TopicAssignment.objects.get(insight=insight, topic=delivery)
    assert kept.removed and kept.by_staff
