"""Which customer texts are enriched, and what a CommentInsight row says about each: one rule
per source, used by the receivers (one text as it is written) and by the backfill (every text
written before, a chunk at a time), so both doors file a text the same way.

- An answer's comment (source ``answer``); a follow-up answer, i.e. the answer to a recovery
  survey sent after a ticket (``follow_up``); an answer posted through the API (``external``).
- A customer's message on a ticket (``ticket_message``), except the copy of the answer's
  comment a ticket opens with (the answer is already counted).
- An inbound email whose text went nowhere else (``inbound``): unmatched, to a closed survey,
  or a reply that is not a score. Mail recorded as a comment or a ticket message is counted
  there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from feedback.inbound.models import InboundEmail, InboundStatus
from feedback.insights.models import InsightSource
from feedback.surveys.models import InvitationPurpose, Response, ResponseChannel
from feedback.tickets.models import MessageDirection, TicketMessage

# Enough for any comment (the survey page caps them lower); the engine reads fewer still.
MAX_TEXT_CHARS = 5000
# Inbound mail whose words were recorded nowhere else.
INBOUND_KEPT = (InboundStatus.UNMATCHED, InboundStatus.CLOSED, InboundStatus.NO_SCORE)
RESPONSE_SOURCES = (InsightSource.ANSWER, InsightSource.FOLLOW_UP, InsightSource.EXTERNAL)


@dataclass(frozen=True)
class SourceText:
    source: str
    source_id: int
    text: str
    occurred_at: datetime
    response_id: int | None = None
    ticket_id: int | None = None
    touchpoint_id: int | None = None
    customer_id: int | None = None


def clean_text(text: str | None) -> str:
    return (text or "").replace("\x00", "").strip()[:MAX_TEXT_CHARS]


def response_source(response: Response) -> str:
    invitation = response.invitation if response.invitation_id else None
    if invitation is not None and invitation.purpose == InvitationPurpose.FOLLOWUP:
        return InsightSource.FOLLOW_UP
    if response.channel == ResponseChannel.API:
        return InsightSource.EXTERNAL
    return InsightSource.ANSWER


def of_response(response: Response) -> SourceText:
    """The answer's comment (empty: the answer has none, or no longer)."""
    return SourceText(
        source=response_source(response),
        source_id=response.pk,
        text=clean_text(response.comment),
        occurred_at=response.submitted_at,
        response_id=response.pk,
        touchpoint_id=response.touchpoint_id,
        customer_id=response.customer_id,
    )


def of_message(message: TicketMessage) -> SourceText | None:
    """A customer's ticket message; None for staff's messages and the answer's copy."""
    if message.direction != MessageDirection.INBOUND:
        return None
    ticket = message.ticket
    if ticket.response_id is not None and message.body.strip() == (ticket.response.comment.strip()):
        return None
    return SourceText(
        source=InsightSource.TICKET_MESSAGE,
        source_id=message.pk,
        text=clean_text(message.body),
        occurred_at=message.created_at,
        ticket_id=ticket.pk,
        touchpoint_id=ticket.touchpoint_id,
        customer_id=ticket.customer_id,
    )


def of_inbound(row: InboundEmail) -> SourceText:
    """An inbound email's text while it went to no answer or ticket (else empty)."""
    kept = row.status in INBOUND_KEPT and row.ticket_id is None
    invitation = row.invitation if row.invitation_id else None
    return SourceText(
        source=InsightSource.INBOUND,
        source_id=row.pk,
        text=clean_text(row.text) if kept else "",
        occurred_at=row.received_at,
        customer_id=invitation.customer_id if invitation is not None else None,
        touchpoint_id=None,
    )


# --- Every text written so far (the backfill) ---------------------------------------------------


def _chunks(queryset: QuerySet[Any], size: int) -> Iterator[list[Any]]:
    """Rows in id order, ``size`` at a time, each chunk one query (keyset, not OFFSET)."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def all_source_texts(
    *, since: datetime | None = None, size: int = 500
) -> Iterator[list[SourceText]]:
    """Every customer text there is (written at or after ``since``), a chunk at a time."""
    responses = (
        Response.objects.exclude(comment="")
        .select_related("invitation")
        .only(
            "pk",
            "comment",
            "submitted_at",
            "channel",
            "touchpoint_id",
            "customer_id",
            "invitation__id",
            "invitation__purpose",
        )
    )
    messages = (
        TicketMessage.objects.filter(direction=MessageDirection.INBOUND)
        .select_related("ticket", "ticket__response")
        .only(
            "pk",
            "body",
            "created_at",
            "direction",
            "ticket__id",
            "ticket__touchpoint_id",
            "ticket__customer_id",
            "ticket__response__id",
            "ticket__response__comment",
        )
    )
    inbound = (
        InboundEmail.objects.filter(status__in=INBOUND_KEPT, ticket__isnull=True)
        .exclude(text="")
        .select_related("invitation")
        .only(
            "pk",
            "text",
            "status",
            "received_at",
            "ticket_id",
            "invitation__id",
            "invitation__customer_id",
        )
    )
    if since is not None:
        responses = responses.filter(Q(submitted_at__gte=since) | Q(updated_at__gte=since))
        messages = messages.filter(created_at__gte=since)
        inbound = inbound.filter(received_at__gte=since)
    for chunk in _chunks(responses, size):
        yield [of_response(r) for r in chunk]
    for chunk in _chunks(messages, size):
        yield [t for t in (of_message(m) for m in chunk) if t is not None]
    for chunk in _chunks(inbound, size):
        yield [of_inbound(row) for row in chunk]
