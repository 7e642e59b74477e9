"""What the ticket workspace shows from insights (a panel registered in
feedback.tickets.admin.panels): the comment's topics and sentiment, and the similar past
tickets with their root cause and resolution, the most common of those causes suggested.

Similar tickets are the resolved ones whose comment embedding is closest (cosine) to this
ticket's comment. Only the insights of the last SIMILAR_POOL resolved tickets are compared:
one query of ~768 bytes a row (about 1.5 MB) and one matrix product per page, bounded
whatever the history; older tickets are rarely the best guide to today's causes anyway."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from django.db.models import Case, Q, When
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy

from feedback.insights.engine import unpack
from feedback.insights.models import CommentInsight, InsightSource, Topic, TopicAssignment
from feedback.tickets.admin.panels import WorkspacePanel, workspace_panel_register
from feedback.tickets.models import Ticket, TicketStatus

SIMILAR_POOL = 2000
SIMILAR_SHOWN = 3
# Below this cosine, e5 embeddings of two short comments are about different things.
SIMILAR_FLOOR = 0.80
# The correction endpoint (feedback.insights admin, written by the pipeline's owner): POST
# topic=<slug>, present=1|0, next=<url>. Until it exists the topics are shown read-only.
CORRECTION_URL_NAME = "admin:feedback_commentinsight_correct"


def ticket_insight(ticket: Ticket) -> CommentInsight | None:
    """The text the ticket is about: the answer's comment, else the customer's first message
    (one query)."""
    about = Q(ticket=ticket, source=InsightSource.TICKET_MESSAGE)
    if ticket.response_id:
        about |= Q(
            response_id=ticket.response_id,
            source__in=(InsightSource.ANSWER, InsightSource.EXTERNAL),
        )
    answer_first = Case(When(source=InsightSource.TICKET_MESSAGE, then=1), default=0)
    return (
        CommentInsight.objects.filter(about, enriched_at__isnull=False)
        .only("id", "source", "language", "sentiment", "sentiment_confidence", "embedding")
        .order_by(answer_first, "occurred_at", "id")
        .first()
    )


def similar_tickets(ticket: Ticket, embedding: np.ndarray) -> list[dict[str, Any]]:
    """The SIMILAR_SHOWN resolved tickets closest to ``embedding`` (two queries)."""
    rows = list(
        CommentInsight.objects.filter(
            ticket__isnull=False,
            embedding__isnull=False,
            ticket__status__in=(TicketStatus.RESOLVED, TicketStatus.CLOSED),
            ticket__root_cause__isnull=False,
        )
        .exclude(ticket=ticket)
        .order_by("-ticket__resolved_at", "-id")
        .values_list("ticket_id", "embedding")[:SIMILAR_POOL]
    )
    if not rows:
        return []
    matrix = np.vstack([unpack(blob) for _, blob in rows])
    # float16 storage moves the norms a little: renormalise both sides before the cosine.
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12
    query = embedding / (np.linalg.norm(embedding) + 1e-12)
    scores = matrix @ query
    best: dict[int, float] = {}
    for index in np.argsort(-scores):
        ticket_id, score = rows[int(index)][0], float(scores[int(index)])
        if score < SIMILAR_FLOOR or len(best) == SIMILAR_SHOWN:
            break
        best.setdefault(ticket_id, score)
    tickets = Ticket.objects.select_related("root_cause").in_bulk(list(best))
    return [
        {"ticket": tickets[pk], "similarity": round(score, 2)}
        for pk, score in best.items()
        if pk in tickets
    ]


def suggested_root_cause(similar: list[dict[str, Any]]) -> Any:
    """The most common root cause among the similar tickets (ties: the most similar's)."""
    causes = [s["ticket"].root_cause for s in similar if s["ticket"].root_cause_id]
    if not causes:
        return None
    counts = Counter(c.pk for c in causes)
    top = max(counts.values())
    return next(c for c in causes if counts[c.pk] == top)


def _correction_url(insight: CommentInsight) -> str:
    try:
        return reverse(CORRECTION_URL_NAME, args=[insight.pk])
    except NoReverseMatch:
        return ""


def insights_panel(ticket: Ticket, request: HttpRequest) -> dict[str, Any] | None:
    """The panel's data; None (no panel) when the ticket has no enriched text yet."""
    insight = ticket_insight(ticket)
    if insight is None:
        return None
    topics = list(
        TopicAssignment.objects.filter(insight=insight, removed=False)
        .select_related("topic")
        .order_by("-confidence", "topic__name")
    )
    similar = (
        similar_tickets(ticket, unpack(insight.embedding)) if insight.embedding is not None else []
    )
    correct_url = _correction_url(insight)
    shown = {a.topic_id for a in topics}
    addable = (
        list(Topic.objects.filter(active=True).exclude(pk__in=shown).only("id", "slug", "name"))
        if correct_url
        else []
    )
    return {
        "insight": insight,
        "addable": addable,
        "topics": topics,
        "similar": similar,
        "suggested": suggested_root_cause(similar),
        "correct_url": correct_url,
        "pool": SIMILAR_POOL,
    }


workspace_panel_register(
    WorkspacePanel(
        "insights",
        gettext_lazy("What the customer talks about"),
        "admin/feedback/ticket/panel_insights.html",
        insights_panel,
        10,
    )
)
